"""Typing the final answer and picking its sources."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vidagent.agent.answer import Answer, build_answer, coerce_value, infer_type


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("3", "number", 3), ("There are 2 dogs.", "number", 2), ("two", "number", 2), ("1.5", "number", 1.5),
    ("2.0-4.5", "interval", [2.0, 4.5]), ("from 2 to 4.5 s", "interval", [2.0, 4.5]),
    ("[2.0, 4.5]", "interval", [2.0, 4.5]), ("4.5-2.0", "interval", [2.0, 4.5]),  # reversed: put in order
    ("The red car", "label", "red car"), ("Jump.", "label", "jump"),
])
def test_coerce_with_the_given_type(text, kind, value):
    assert coerce_value(text, kind)[1:] == (value, None)


def test_inferred_types():
    assert infer_type("3") == "number" and infer_type("2.0-4.5 s") == "interval"
    assert infer_type("red") == "label" and infer_type("B", ["x", "y"]) == "choice"


def test_choices_by_letter_index_or_text():
    options = ["walk", "run", "jump"]
    for text in ["B", "(b)", "B)", "run", "Run.", "1", "the person runs: run"]:
        assert coerce_value(text, "choice", options)[1] == "run", text
    _kind, value, problem = coerce_value("swim", "choice", options)
    assert value is None and "matches none" in problem


def test_unreadable_values_say_why():
    assert coerce_value("many", "number")[2] == "'many' contains no number"
    assert "not a time span" in coerce_value("at 3.0 s", "interval")[2]  # one number is no span
    with pytest.raises(ValueError):
        coerce_value("3", "float")


def step(call_id, text, spans, ok=True):
    return {"id": call_id, "ok": ok, "text": text,
            "evidence": {"spans": spans, "boxes": [], "track_ids": [int(call_id[-1])]}}


def test_sources_are_the_calls_that_support_the_answer():
    steps = [step("c1", "3 car in 0.0-5.0s.", [[0, 5]]), step("c2", "Moments: 6.0-8.0s", [[6, 8]]),
             step("c3", "Error", [], ok=False)]
    assert build_answer("3", steps).sources == ["c1"]
    interval = build_answer("6.5-7.5", steps)
    assert interval.sources == ["c2"] and interval.evidence.spans[0].start_s == 6.5
    assert build_answer("purple", steps).sources == ["c1", "c2"]  # nothing mentions it: all successful calls
    assert build_answer("30", steps).sources == ["c1", "c2"]  # "3" inside "30" is not a match


def test_answer_round_trips_through_a_dict():
    answer = build_answer("6.5-7.5", [step("c2", "Moments: 6.0-8.0s", [[6, 8]])])
    assert Answer.from_dict(answer.to_dict()) == answer
    assert str(answer) == "6.5-7.5 s"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.sampled_from([None, "number", "choice", "interval", "label"]),
       st.lists(st.text(max_size=10), max_size=4))
def test_fuzz_coercion_never_crashes(text, kind, choices):
    _kind_out, value, problem = coerce_value(text, kind, choices)
    assert (value is None) == (problem is not None)
