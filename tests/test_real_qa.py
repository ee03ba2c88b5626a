"""The real-video question set (tasks/real_qa/questions.jsonl): loads, covers the clips, answers in range."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from vidagent.tasks.questions import load_questions
from vidagent.tasks.real_clips import CLIPS_BY_NAME

QUESTIONS = Path(__file__).resolve().parents[1] / "tasks" / "real_qa" / "questions.jsonl"


def test_real_questions_load_and_cover_the_clips():
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 60
    assert len({q.id for q in questions}) == len(questions)
    clips = {q.video_file for q in questions}
    assert len(clips) >= 10
    assert clips <= set(CLIPS_BY_NAME), clips - set(CLIPS_BY_NAME)
    for q in questions:
        clip = CLIPS_BY_NAME[q.video_file]
        assert q.video == clip.stem and q.source == "real" and q.hops == 1, q.id
        assert str(q.meta.get("checked", "")).strip(), f"{q.id}: no meta.checked"
        assert q.meta.get("clip_sha256") == clip.sha256, q.id
        if q.answer_type == "interval":
            start, end = q.answer
            assert 0 <= start < end <= clip.duration_s, (q.id, q.answer, clip.duration_s)
        for span in q.evidence:
            assert 0 <= span.start_s <= span.end_s <= clip.duration_s, (q.id, span)
        if q.answer_type == "choice":
            assert len(set(q.choices)) == len(q.choices), q.id


def test_real_questions_mix_families_and_answers():
    questions = load_questions(QUESTIONS)
    families = Counter(q.family for q in questions)
    for family in ("existence", "count", "object", "text", "grounding", "action"):
        assert families[family] >= 3, families
    kinds = Counter(q.answer_type for q in questions)
    assert min(kinds[k] for k in ("number", "label", "choice", "interval")) >= 5, kinds
    yes_no = Counter(q.answer for q in questions if q.answer in ("yes", "no"))
    assert yes_no["no"] >= 5 and yes_no["yes"] >= 5, yes_no
