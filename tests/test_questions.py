"""Question generation and the question schema."""

from __future__ import annotations

from collections import Counter

import pytest
from vidagent.errors import ConfigError
from vidagent.tasks.questions import (
    WORLD_FAMILIES,
    Question,
    generate_questions,
    load_questions,
    save_questions,
)
from vidagent.tasks.world.config import WorldConfig
from vidagent.tasks.world.generate import generate_video


@pytest.fixture(scope="module")
def questions():
    config = WorldConfig(questions_per_video=14)
    return [q for seed in range(25) for q in generate_video(config, seed, f"v{seed}", None).questions]


def test_all_families_answer_types_and_forms(questions):
    families = Counter(q.family for q in questions)
    assert set(families) == set(WORLD_FAMILIES)
    assert min(families.values()) >= 0.05 * len(questions)  # roughly balanced
    assert {q.answer_type for q in questions} == {"number", "choice", "interval", "label"}
    assert {q.hops for q in questions} >= {1, 2, 3}


def test_several_phrasings_per_family(questions):
    for family in WORLD_FAMILIES:
        openings = {" ".join(q.text.split()[:2]) for q in questions if q.family == family}
        assert len(openings) >= 3, (family, openings)


def test_questions_carry_evidence_and_programs(questions):
    for q in questions:
        assert q.program is not None and q.program.calls
        if q.family in ("grounding", "order", "action", "multihop"):
            assert q.evidence
        if q.answer_type == "choice":
            assert q.answer in q.choices and q.prompt().count("\n") == len(q.choices)


def test_yes_no_answers_are_balanced(questions):
    answers = Counter(str(q.answer) for q in questions if q.family == "existence")
    assert answers["yes"] > 0.25 * sum(answers.values()) and answers["no"] > 0.25 * sum(answers.values())


def test_generation_is_deterministic():
    truth = generate_video(WorldConfig(), 3, "v", None).truth
    assert generate_questions(truth, 10, 3) == generate_questions(truth, 10, 3)


def test_jsonl_round_trip_and_bad_lines(tmp_path, questions):
    path = save_questions(questions[:20], tmp_path / "q.jsonl")
    assert load_questions(path) == questions[:20]
    path.write_text(path.read_text() + '{"id": "x", "video": "v", "family": "count", "text": "?", '
                    '"answer": "three", "answer_type": "number"}\n')
    with pytest.raises(ConfigError, match=r"q.jsonl:21.*number answer"):
        load_questions(path)


@pytest.mark.parametrize("fields, message", [
    ({"family": "vibes"}, "unknown family"),
    ({"answer": "walk", "answer_type": "choice", "choices": ["run", "jump"]}, "must be one of"),
    ({"answer": [3.0, 1.0], "answer_type": "interval"}, "start <= end"),
    ({"answer": "walk", "answer_type": "label", "choices": ["walk", "run"]}, "choices given"),
])
def test_schema_rejects_inconsistent_questions(fields, message):
    base = {"id": "q", "video": "v", "family": "action", "text": "?", "answer": "walk", "answer_type": "label"}
    with pytest.raises(ValueError, match=message):
        Question(**{**base, **fields})
