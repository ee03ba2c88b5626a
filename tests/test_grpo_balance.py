"""GRPO's step composition: family round-robin, zero-variance groups dropped from the loss, bad options."""

from __future__ import annotations

from collections import defaultdict

import pytest
import torch
from vidagent.errors import ConfigError
from vidagent.policies.config import GRPOConfig
from vidagent.policies.grpo import drop_zero_variance_groups, family_round_robin, record_family_accuracy
from vidagent.tasks.questions import Question


def question(i: int, family: str) -> Question:
    return Question(id=f"q{i}", video="v", text=f"question {i}?", answer_type="label", answer="yes",
                    family=family)


def test_round_robin_puts_different_families_side_by_side_and_keeps_every_question():
    families = ["count"] * 9 + ["action"] * 3 + ["attribute"] * 3 + ["grounding"] * 2
    questions = [question(i, f) for i, f in enumerate(families)]
    ordered = family_round_robin(questions, seed=3)
    assert sorted(q.id for q in ordered) == sorted(q.id for q in questions)
    # while every family still has questions, each window of 4 has all 4 families
    assert len({q.family for q in ordered[:4]}) == 4 and len({q.family for q in ordered[4:8]}) == 4
    # action questions are not left to the end, where a short run never gets
    assert [q.family for q in ordered].index("action") < 4
    assert family_round_robin(questions, seed=3) == ordered  # seeded


def test_zero_variance_groups_leave_the_loss_and_the_token_count():
    advantages = torch.tensor([0.0, 0.0, 0.7, -0.7, 0.0, 0.0])  # groups of 2: the first and last scored alike
    mask = torch.ones(6, 5, dtype=torch.int)
    output = {"advantages": advantages, "completion_mask": mask.clone(), "tool_mask": mask.clone(),
              "num_items_in_batch": torch.tensor(30)}
    kept = drop_zero_variance_groups(output, group_size=2)
    assert kept.tolist() == [False, False, True, True, False, False]
    assert output["tool_mask"].sum(dim=1).tolist() == [0, 0, 5, 5, 0, 0]
    assert int(output["num_items_in_batch"]) == 10


def test_family_accuracy_is_recorded_per_family():
    metrics: defaultdict[str, list[float]] = defaultdict(list)  # as TRL's _metrics[mode]
    qs = [question(0, "count"), question(1, "count"), question(2, "order")]
    answers = [{"value": "yes"}, {"value": "no"}, {"value": "yes"}]
    record_family_accuracy(metrics, [q.model_dump_json() for q in qs], answers)
    assert metrics["family/count"] == [0.5] and metrics["family/order"] == [1.0]


def test_an_unknown_zero_variance_mode_is_refused_with_a_fix(tmp_path):
    with pytest.raises(ConfigError) as error:
        GRPOConfig(world=str(tmp_path), zero_variance="resample")
    assert "drop" in error.value.fix
