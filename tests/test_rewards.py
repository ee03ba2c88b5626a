"""Reward functions against hand-computed values."""

from __future__ import annotations

import pytest

from vidagent.policies.rewards import (
    DEFAULT_REWARDS, accuracy_reward, efficiency_reward, format_reward, length_reward, reward_parts,
    zero_variance_share,
)

COUNT_Q = {"id": "q1", "video": "v", "family": "count", "text": "How many dogs?", "answer": 2,
           "answer_type": "number"}
SPAN_Q = {"id": "q2", "video": "v", "family": "grounding", "text": "When does the car stop?",
          "answer": [2.0, 6.0], "answer_type": "interval"}


def ans(value, answer_type="number"):
    return {"text": str(value), "answer_type": answer_type, "value": value}


def ep(calls=2, invalid=0, frames=64, chars=600, answered=True):
    return {"tool_calls": calls, "invalid_calls": invalid, "frames": frames, "reasoning_chars": chars,
            "answered": answered}


def test_correct_count_answer_parts():
    parts = reward_parts(COUNT_Q, ans(2), ep())
    # accuracy 1; format 0.5 + 0.5*1; length (2*1-1)*(0.5+0.5*600/1200)=0.75;
    # efficiency 0.2*(1 - 0.5*2/6 - 0.5*64/256) = 0.2*(1-0.16667-0.125) = 0.141667
    assert parts["accuracy"] == 1.0 and parts["format"] == 1.0
    assert parts["length"] == pytest.approx(0.75)
    assert parts["efficiency"] == pytest.approx(0.2 * (1 - 1 / 6 - 0.125))
    assert parts["total"] == pytest.approx(1 + 1 + 0.75 + 0.2 * (1 - 1 / 6 - 0.125))


def test_wrong_answer_loses_more_for_longer_reasoning_and_gets_no_efficiency():
    short = reward_parts(COUNT_Q, ans(3), ep(chars=0))
    long = reward_parts(COUNT_Q, ans(3), ep(chars=2400))
    assert short["length"] == pytest.approx(-0.5) and long["length"] == pytest.approx(-1.0)
    assert short["efficiency"] == 0.0 and short["accuracy"] == 0.0


def test_interval_accuracy_is_iou():
    # [3, 7] vs gold [2, 6]: intersection 3, union 5 -> 0.6
    assert accuracy_reward([None], [None], [SPAN_Q], [ans([3.0, 7.0], "interval")]) == [pytest.approx(0.6)]


def test_format_counts_invalid_calls_and_missing_answer():
    assert format_reward([None] * 2, [None] * 2, [ans(2), None], [ep(calls=4, invalid=1), ep()]) == [
        pytest.approx(0.5 + 0.5 * 0.75), 0.0]
    # no answer: accuracy 0, format 0 -> length term 0 (it needs an answer), efficiency 0
    assert length_reward([None], [None], [COUNT_Q], [None], [ep()]) == [0.0]
    assert efficiency_reward([None], [None], [COUNT_Q], [None], [ep()]) == [0.0]


def test_trl_signature_for_every_default_reward():
    kwargs = {"question": [COUNT_Q, COUNT_Q], "final_answer": [ans(2), ans(1)], "episode": [ep(), ep()],
              "trainer_state": None}
    for fn in DEFAULT_REWARDS:
        values = fn(["p", "p"], ["c", "c"], **kwargs)
        assert len(values) == 2 and all(isinstance(v, float) for v in values)


def test_zero_variance_share():
    assert zero_variance_share([1, 1, 0, 1, 0.5, 0.5], group_size=2) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="do not split"):
        zero_variance_share([1, 2, 3], group_size=2)


@pytest.mark.parametrize("value", [2, 3])  # right and wrong
@pytest.mark.parametrize("chars", [0, 600, 2400])
def test_a_broken_call_never_scores_above_clean_calls_with_the_same_answer(value, chars):
    clean = reward_parts(COUNT_Q, ans(value), ep(calls=2, invalid=0, chars=chars))["total"]
    broken = reward_parts(COUNT_Q, ans(value), ep(calls=2, invalid=1, chars=chars))["total"]
    all_broken = reward_parts(COUNT_Q, ans(value), ep(calls=2, invalid=2, chars=chars))["total"]
    assert clean > broken > all_broken
    # was: a wrong answer after a broken call 0.75, after clean calls 0.0-0.5 (length only on perfect format)


def test_answering_wrong_never_scores_below_not_answering():
    wrong = reward_parts(COUNT_Q, ans(3), ep(chars=2400))["total"]
    silent = reward_parts(COUNT_Q, None, ep(answered=False))["total"]
    assert wrong >= silent == 0.0
