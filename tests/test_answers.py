"""The one answer parser (``vidagent.answers``): hand-built cases per answer type, and the agent and the
verifier reading the same texts the same way."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vidagent.agent.answer import coerce_value
from vidagent.answers import (
    clean_label,
    infer_type,
    interval_iou,
    normalize_label,
    read_choice,
    read_interval,
    read_number,
    spans_overlap,
)
from vidagent.tasks.questions import Question
from vidagent.tasks.verify import verify


def question(answer, answer_type, choices=()):
    return Question(id="q", video="v", family="count", text="?", answer=answer, answer_type=answer_type,
                    choices=list(choices))


NUMBER_TEXTS = [
    ("3", 3), ("3 cars", 3), ("three", 3), ("There are 2 people", 2), ("There are 2 people.", 2), ("1.5", 1.5),
    ("Thirteen", 13), ("twenty", 20), ("none", 0), ("No one.", 0), ("nobody is there", 0),
    # several numbers: the last that is not a time stamp
    ("I count two, no wait, three", 3), ("At 4.0 s there are 2 cars", 2), ("2 cars at 4.0 s", 2),
    ("At 10 seconds, three people", 3), ("The number of people is 3", 3), ("at 4.0 s", 4),
    # "one" after a determiner is a pronoun
    ("two cars: a red one and a blue one", 2), ("the red one", None),
    ("1.5-3.5", 3.5),  # no signs: the dash is no minus
    ("many", None), ("", None),
]


@pytest.mark.parametrize(("text", "value"), NUMBER_TEXTS)
def test_read_number(text, value):
    assert read_number(text) == value


def test_numbers_are_ints_when_whole_and_values_pass_through():
    assert isinstance(read_number("3.0"), int) and isinstance(read_number(3.0), int)
    assert read_number(2.5) == 2.5 and read_number(True) is None


INTERVAL_TEXTS = [
    ("2.0-4.5 s", (2.0, 4.5)), ("2.0 s - 4.5 s", (2.0, 4.5)), ("from 2 to 4.5", (2.0, 4.5)),
    ("between 2 and 4.5 seconds", (2.0, 4.5)), ("[2.0, 4.5]", (2.0, 4.5)), ("2.0–4.5", (2.0, 4.5)),
    ("start 2.0 s, end 4.5 s", (2.0, 4.5)),  # no joined pair: the first two numbers
    ("In the 2 clips, from 4.0 to 6.0 s", (4.0, 6.0)),  # a joined pair beats the first two numbers
    ("4.5-2.0", (2.0, 4.5)), ("from 4.0 to 2.0", (2.0, 4.0)),  # reversed: put in order
    ("3.0-3.0", (3.0, 3.0)),  # a point
    ("at 3.0 s", None), ("somewhere", None), ("", None),  # malformed: fewer than two numbers
]


@pytest.mark.parametrize(("text", "span"), INTERVAL_TEXTS)
def test_read_interval_from_text(text, span):
    assert read_interval(text) == span


@pytest.mark.parametrize(("value", "span"), [
    ([2, 4.5], (2.0, 4.5)), ((4.5, 2.0), (2.0, 4.5)), (["2", "4.5"], (2.0, 4.5)), ([1.0, 2.0, 3.0], (1.0, 2.0)),
    ({"start_s": 2.0, "end_s": 4.5}, (2.0, 4.5)), ({"start_s": 2.0}, None), ({"start_s": 2.0, "end_s": "x"}, None),
    ([2.0], None), (["a", "b"], None), ([math.nan, 1.0], None), ([0.0, math.inf], None), (None, None),
])
def test_read_interval_from_values(value, span):
    assert read_interval(value) == span


def test_interval_iou_hand_computed():
    assert interval_iou((2, 4), (2, 4)) == 1.0
    assert interval_iou((0, 2), (1, 3)) == pytest.approx(1 / 3)
    assert interval_iou((0, 4), (1, 2)) == pytest.approx(0.25)
    assert interval_iou((0, 1), (2, 3)) == 0.0
    assert interval_iou((0, 2), (2, 4)) == 0.0  # touching
    assert interval_iou((4, 2), (3, 5)) == interval_iou((2, 4), (3, 5)) == pytest.approx(1 / 3)  # either order


def test_interval_iou_of_zero_length_spans():
    assert interval_iou((1, 1), (1, 1)) == 1.0  # the same moment
    assert interval_iou((1, 1), (2, 2)) == 0.0  # two moments
    assert interval_iou((1, 1), (0, 2)) == 0.0  # a moment inside a span shares no length
    assert interval_iou((0, 2), (2, 2)) == 0.0  # at its end


def test_spans_overlap():
    assert spans_overlap((0, 2), (1, 3)) and spans_overlap((1, 1), (0, 2)) and spans_overlap((0, 2), (2, 2))
    assert spans_overlap((1, 1), (1, 1))
    assert not spans_overlap((0, 2), (2, 4))  # touching
    assert not spans_overlap((0, 1), (2, 3)) and not spans_overlap((1, 1), (2, 2))


ACTIONS = ["walk", "run", "jump", "stand"]


@pytest.mark.parametrize(("prediction", "choices", "picked"), [
    ("B", ACTIONS, "run"), ("b", ACTIONS, "run"), ("(B)", ACTIONS, "run"), ("B.", ACTIONS, "run"),
    ("B)", ACTIONS, "run"), ("B. run", ACTIONS, "run"), ("(b) run", ACTIONS, "run"), ("E", ACTIONS, None),
    ("run", ACTIONS, "run"), ("Running", ACTIONS, "run"), ("Run.", ACTIONS, "run"), ("walks", ACTIONS, "walk"),
    ("a dog runs", ACTIONS, "run"),  # "a" without punctuation is no letter; the sentence mentions one option
    ("the person runs: run", ACTIONS, "run"), ("walking then running", ACTIONS, None), ("swim", ACTIONS, None),
    (1, ACTIONS, "run"), ("1", ACTIONS, "run"), (7, ACTIONS, None), (1.5, ACTIONS, None),  # 0-based index
    ("", ACTIONS, None), (True, ACTIONS, None), ("B", [], None),
    # numeric options: numbers by value, letters still letters
    (1, ["0", "1", "3", "4"], "1"), ("1", ["0", "1", "3", "4"], "1"), (0, ["0", "1", "3", "4"], "0"),
    ("3.0", ["0", "1", "3", "4"], "3"), ("There are 3 people", ["0", "1", "3", "4"], "3"),
    ("three", ["0", "1", "3", "4"], "3"), ("B", ["0", "1", "3", "4"], "1"), (2, ["0", "1", "3", "4"], None),
    ("2", ["1 person", "2 people", "3 people"], "2 people"),
    ("bikes", ["car", "bicycle"], "bicycle"),  # synonyms
])
def test_read_choice(prediction, choices, picked):
    assert read_choice(prediction, choices) == picked


def test_labels():
    assert normalize_label("The People are LYING on the ground!") == "person are lie"
    assert normalize_label("standing still") == normalize_label("stays still") == "still"
    assert normalize_label("2.5 s.") == "2.5 s"  # decimal points stay
    assert normalize_label("cats", {"cat"}) == "cat" and normalize_label("cats") == "cats"
    assert clean_label("  The Red  cars!") == "red cars" and clean_label("Jump.") == "jump"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_the_shown_label_compares_like_the_text(text):
    assert normalize_label(clean_label(text)) == normalize_label(text)


def test_infer_type():
    assert infer_type("3") == infer_type("three.") == infer_type(" 1.5 ") == "number"
    assert infer_type("2.0-4.5 s") == infer_type("from 2 to 4.5") == "interval"
    assert infer_type("none") == "label"  # without a question "none" is as likely "nothing"
    assert infer_type("from 2 to 4 and 6") == "label"  # three numbers
    assert infer_type("3 cars") == infer_type("red") == "label"
    assert infer_type("B", ["x", "y"]) == "choice"


# -- the agent's typed value and the verifier agree ---------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), NUMBER_TEXTS)
def test_agent_and_verifier_read_numbers_alike(text, value):
    typed = coerce_value(text, "number")[1]
    score = verify(question(3, "number"), text)
    assert typed == score.parsed == value
    if typed is not None:
        assert verify(question(3, "number"), typed) == score


@pytest.mark.parametrize(("text", "span"), INTERVAL_TEXTS)
def test_agent_and_verifier_read_intervals_alike(text, span):
    typed = coerce_value(text, "interval")[1]
    score = verify(question([2.0, 4.5], "interval"), text)
    assert typed == score.parsed == (list(span) if span else None)
    if typed is not None:
        assert verify(question([2.0, 4.5], "interval"), typed) == score


@pytest.mark.parametrize("text", ["B", "(b)", "B. run", "run", "Running", "a dog runs", "1", "swim", "E", ""])
def test_agent_and_verifier_read_choices_alike(text):
    typed = coerce_value(text, "choice", ACTIONS)[1]
    score = verify(question("run", "choice", ACTIONS), text)
    assert typed == score.parsed
    if typed is not None:
        assert verify(question("run", "choice", ACTIONS), typed) == score


@pytest.mark.parametrize(("gold", "text"), [
    ("walk", "The person is walking."), ("walk", "Walks"), ("stand", "stands still"), ("lie", "Lying down!"),
    ("yes", "Yeah."), ("red", "The car is red"), ("person", "People"), ("walk", "running"), ("ride", "rolls along"),
])
def test_scoring_the_agents_label_is_scoring_the_text(gold, text):
    typed = coerce_value(text, "label")[1]
    assert verify(question(gold, "label"), typed) == verify(question(gold, "label"), text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.text("0123456789 .,-()abnoetwsABC", max_size=30)),
       st.sampled_from(["number", "interval", "choice"]),
       st.lists(st.one_of(st.text(max_size=10), st.text("0123456789 .", max_size=3)), min_size=2, max_size=4))
def test_fuzz_agent_and_verifier_agree(text, kind, choices):
    options = choices if kind == "choice" else []
    typed = coerce_value(text, kind, options)[1]
    gold = {"number": 3, "interval": [2.0, 4.5], "choice": choices[0]}[kind]
    assert typed == verify(question(gold, kind, options), text).parsed
