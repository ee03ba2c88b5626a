"""Test-time scaling curves from stored samples: subset votes, adaptive stops and the evidence weighting."""

from __future__ import annotations

import json

import pytest
from test_self_consistency import answers
from vidagent.agent.voting import aggregate, evidence_weights
from vidagent.cli import main
from vidagent.policies.scaling import curve
from vidagent.tasks.questions import Question


def sample(value, correct, evidence=True, answer_type="number"):
    return {"answer_type": answer_type, "value": value, "correct": correct, "evidence": evidence}


def question(qid="q", answer=2, answer_type="number"):
    return Question(id=qid, video="v", text="How many?", answer=answer, answer_type=answer_type, family="count")


def test_weighted_votes_let_looked_at_answers_beat_guesses():
    plain = aggregate(answers("3", "3", "2"))
    assert plain.best.value == 3 and plain.confidence == pytest.approx(2 / 3)
    weighted = aggregate(answers("3", "3", "2"), weights=evidence_weights([False, False, True]))
    assert weighted.best.value == 2 and weighted.best.votes == 1
    assert weighted.confidence == pytest.approx(1 / 1.5)  # 1 of 1.5 weight
    with pytest.raises(ValueError, match="2 weights for 3"):
        aggregate(answers("3", "3", "2"), weights=[1, 1])


def test_curve_points_follow_from_the_samples():
    questions = {"q": question(), "r": question("r", 5)}
    outcomes = [{"id": "q", "sampled": [sample(2, True), sample(2, True), sample(3, False, evidence=False), None]},
                {"id": "r", "sampled": [sample(5, True), sample(5, True), sample(5, True), sample(5, True)]}]
    points = {(p.mode, p.weighting): p for p in curve(questions, outcomes, ns=[1, 4], adaptive=[2], draws=400)}
    one = points[("vote of 1", "plain")]
    assert one.samples == 1 and one.accuracy == pytest.approx((0.5 + 1.0) / 2, abs=0.05)  # q: 2 of 4 right
    four = points[("vote of 4", "plain")]
    assert four.accuracy == 1.0 and four.confidence == pytest.approx((0.5 + 1.0) / 2)  # silence counts against
    adaptive = points[("adaptive 2 of 4", "plain")]
    assert adaptive.accuracy == pytest.approx(1.0, abs=0.05)
    assert 2.0 < adaptive.samples < 4.0  # r stops at 2 every time; q only when its first 2 agree
    assert points[("vote of 4", "evidence")].accuracy == 1.0


def test_interval_consensus_spans_are_scored_anew():
    questions = {"q": question(answer=[2.0, 4.0], answer_type="interval")}
    spans = [sample([2.0, 4.2], True, answer_type="interval"), sample([1.8, 4.0], True, answer_type="interval"),
             sample([7.0, 9.0], False, answer_type="interval")]
    (point,) = curve(questions, [{"id": "q", "sampled": spans}], ns=[3], weightings=["plain"], draws=5)
    assert point.accuracy == 1.0 and point.confidence == pytest.approx(2 / 3)


def test_scaling_refuses_reports_without_samples(tmp_path, capsys):
    report = tmp_path / "old.json"
    report.write_text(json.dumps({"rows": [{"name": "x", "outcomes": [{"id": "q", "correct": True}]}]}))
    assert main(["scaling", str(report), "--out", str(tmp_path / "c")]) == 2
    assert "keeps no per-sample answers" in capsys.readouterr().err
    assert main(["scaling", str(tmp_path / "missing.json"), "--out", str(tmp_path / "c")]) == 2
    assert "no report at" in capsys.readouterr().err
