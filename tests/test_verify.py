"""Verifier: hand-computed cases for every answer type, and set-level interval metrics."""

from __future__ import annotations

import pytest
from vidagent.tasks.questions import Question
from vidagent.tasks.verify import interval_metrics, normalize, summarize, verify


def q(answer, answer_type, choices=(), family="count"):
    return Question(id="q", video="v", family=family, text="?", answer=answer, answer_type=answer_type,
                    choices=list(choices))


@pytest.mark.parametrize("prediction, correct", [
    (3, True), (3.0, True), ("3", True), ("three", True), ("There are 3 people.", True),
    ("I count two, no wait, three", True), (2, False), ("four", False), ("many", False), (None, False),
])
def test_numbers(prediction, correct):
    assert verify(q(3, "number"), prediction).correct is correct


@pytest.mark.parametrize("gold, prediction, correct", [
    ("walk", "walking", True), ("walk", "The person is walking.", True), ("walk", "Walks", True),
    ("run", "running", True), ("run", "ran", True), ("lie", "lying on the ground", True),
    ("still", "standing still", True), ("stand", "stands still", True), ("yes", "Yes.", True),
    ("yes", "yeah", True), ("no", "No", True), ("no", "yes", False), ("red", "Red", True),
    ("red", "the car is red", True), ("red", "red or blue", False), ("walk", "run", False),
    ("walk", "walking then running", False), ("bounce", "bouncing", True), ("wave", "waving", True),
])
def test_labels(gold, prediction, correct):
    assert verify(q(gold, "label", family="action"), prediction).correct is correct


@pytest.mark.parametrize("prediction, correct", [
    ("B", True), ("b", True), ("(B)", True), ("B.", True), ("B. run", True), (1, True), ("run", True),
    ("Running", True), ("A", False), (0, False), ("a dog runs", True), ("walk", False), ("E", False),
])
def test_choices(prediction, correct):
    question = q("run", "choice", ["walk", "run", "jump", "stand"], family="action")
    assert verify(question, prediction).correct is correct


def test_numeric_choices_compare_by_value_not_index():
    question = q("1", "choice", ["0", "1", "3", "4"])
    assert verify(question, 1).correct
    assert verify(question, "1").correct
    assert not verify(question, 0).correct
    assert verify(question, "B").correct


@pytest.mark.parametrize("prediction, iou", [
    ([2.0, 4.0], 1.0), ((3.0, 5.0), 1 / 3), ("from 2 to 4 s", 1.0), ("2.0-4.0s", 1.0),
    ({"start_s": 2.0, "end_s": 3.0}, 0.5), ("4.0 to 2.0", 1.0), ("somewhere", 0.0),
])
def test_intervals(prediction, iou):
    score = verify(q([2.0, 4.0], "interval", family="grounding"), prediction)
    assert score.iou == pytest.approx(iou)
    assert score.reward == pytest.approx(iou)
    assert score.correct is (iou >= 0.5)


def test_interval_threshold_is_configurable():
    question = q([2.0, 4.0], "interval", family="grounding")
    assert not verify(question, [3.0, 5.0]).correct
    assert verify(question, [3.0, 5.0], iou_threshold=0.3).correct


def test_recall_at_iou_and_miou_hand_computed():
    metrics = interval_metrics([1.0, 0.6, 0.4, 0.1])
    assert metrics["R@0.3"] == 0.75
    assert metrics["R@0.5"] == 0.5
    assert metrics["R@0.7"] == 0.25
    assert metrics["mIoU"] == pytest.approx(0.525)


def test_summarize_per_family():
    questions = [q(3, "number"), q(2, "number"), q([0.0, 2.0], "interval", family="grounding")]
    scores = [verify(questions[0], 3), verify(questions[1], 5), verify(questions[2], [1.0, 2.0])]
    summary = summarize(questions, scores)
    assert summary["families"] == {"count": 0.5, "grounding": 1.0}
    assert summary["intervals"]["mIoU"] == pytest.approx(0.5)
    assert summary["accuracy"] == pytest.approx(2 / 3)


def test_normalize():
    assert normalize("The Red car is STOPPING!") == "red car is stop"
