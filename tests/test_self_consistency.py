"""Self-consistency: voting by answer type, interval clustering, adaptive stopping, one batched decode."""

from __future__ import annotations

import itertools
import threading

import pytest
from vidagent.agent import Agent, SamplingPlan, ScriptedChatModel
from vidagent.agent.answer import build_answer
from vidagent.agent.parsing import format_answer
from vidagent.agent.voting import aggregate
from vidagent.errors import ConfigError


def answers(*texts, answer_type=None):
    return [None if t is None else build_answer(t, [], answer_type=answer_type) for t in texts]


def test_numbers_vote_on_the_parsed_value_and_silence_counts_against_confidence():
    consensus = aggregate(answers("2", "two", "3", None, "2.0"))
    assert consensus.best.value == 2 and consensus.best.votes == 3 and consensus.samples == 5
    assert consensus.confidence == pytest.approx(0.6)
    assert [(o.value, o.votes) for o in consensus.alternatives] == [(3, 1)]
    assert consensus.winner == 0 and consensus.per_sample == [2, 2, 3, None, 2]


def test_labels_vote_after_normalisation_and_ties_go_to_the_first_given():
    consensus = aggregate(answers("People", "the person", "dog", "Dogs."))
    assert consensus.best.votes == 2 and consensus.best.value == "people"  # the first sample's wording
    assert consensus.alternatives[0].votes == 2
    assert aggregate(answers(None, None)).best is None and aggregate(answers(None)).confidence == 0.0


def test_intervals_cluster_by_iou_and_answer_the_consensus_span():
    consensus = aggregate(answers("2.0-4.0", "2.2-4.2", "7.0-9.0", "2.0-3.8", answer_type="interval"))
    assert consensus.best.value == [2.0, 4.0] and consensus.best.members == (0, 1, 3)
    assert consensus.confidence == pytest.approx(0.75)
    assert consensus.winner == 0  # the member closest to the consensus span
    assert consensus.alternatives[0].value == [7.0, 9.0]


def per_call_answers(values):
    """A scripted planner whose n-th run answers values[n] (runs are concurrent: a lock orders them)."""
    counter, lock = itertools.count(), threading.Lock()

    def reply(_messages):
        with lock:
            return format_answer(str(values[next(counter) % len(values)]))

    return ScriptedChatModel(replies=[reply], repeat_last=True)


def test_sampled_question_returns_the_winner_with_confidence_and_every_sample(tiny_video):
    model = per_call_answers([2, 3, 2, 2])
    result = Agent(planner=model, tools=[]).ask(tiny_video, "How many dogs?", samples=4)
    assert result.answered and result.answer.value == 2
    assert result.consensus.confidence == pytest.approx(0.75) and len(result.samples) == 4
    assert [(o.value, o.votes) for o in result.consensus.alternatives] == [(3, 1)]
    assert "voted: confidence 0.75 (3 of 4 samples); alternatives: 3 (1)" in result.stop_reason
    assert result.stats.llm_calls == 4 and result.to_dict()["consensus"]["samples"] == 4


def test_adaptive_stops_after_k_agreeing_samples_and_draws_more_on_a_split(tiny_video):
    agreeing = per_call_answers([5])
    result = Agent(planner=agreeing, tools=[]).ask(tiny_video, "How many?", samples=SamplingPlan(8, adaptive_k=3))
    assert agreeing.calls_made == 3 and result.consensus.samples == 3
    assert "stopped after 3: they agreed" in result.consensus.note
    split = per_call_answers([1, 2, 1, 1, 1, 1, 1, 1])
    result = Agent(planner=split, tools=[]).ask(tiny_video, "How many?", samples=SamplingPlan(8, adaptive_k=3))
    assert split.calls_made == 8 and result.answer.value == 1 and result.consensus.confidence == 7 / 8


def test_caps_stop_drawing_waves(tiny_video):
    model = per_call_answers([1, 2])
    plan = SamplingPlan(8, adaptive_k=2, max_tokens=1)
    result = Agent(planner=model, tools=[]).ask(tiny_video, "How many?", samples=plan)
    assert result.consensus.samples == 2 and "token cap" in result.consensus.note


def test_samples_of_one_question_decode_as_one_batch(tiny_video):
    from test_agent_api import tiny_local_chat  # a 2-layer Llama with the SmolLM2 tokenizer

    chat = tiny_local_chat(max_new_tokens=4)
    agent = Agent(planner=chat, tools=[], max_tool_calls=0, max_llm_calls=1)
    result = agent.ask(tiny_video, "How many dogs?", samples=4)
    sampler = agent.sampler(0.7).model
    assert sampler.do_sample and not chat.do_sample  # the agent's own planner stays greedy
    assert sampler.batcher.batch_sizes == [4] and len(result.samples) == 4


def test_bad_sampling_settings_are_config_errors(tiny_video):
    agent = Agent(planner=per_call_answers([1]), tools=[])
    for bad in (0, -2):
        with pytest.raises(ConfigError, match="samples must be"):
            agent.ask(tiny_video, "?", samples=bad)
    with pytest.raises(ConfigError, match="adaptive k"):
        SamplingPlan(4, adaptive_k=5)
    with pytest.raises(ConfigError, match="max_seconds must be more than 0"):
        SamplingPlan(4, max_seconds=-1)
    with pytest.raises(ConfigError, match="thread"):
        agent.ask(tiny_video, "?", samples=2, thread_id="t")



def test_cli_samples_print_the_vote_and_the_report_shows_it(tiny_video, tmp_path, capsys):
    import json

    from vidagent.cli import main

    replies = tmp_path / "replay.json"
    replies.write_text(json.dumps({"replies": [format_answer("2"), format_answer("3"), format_answer("2")]}))
    report = tmp_path / "r.html"
    code = main(["ask", str(tiny_video), "How many dogs?", "--planner", f"replay:{replies}", "--tools", "world",
                 "--samples", "3", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0 and "drawing 3 samples" in out and "[sample 3]" in out  # each sample takes one reply
    assert "answer: 2 (number)" in out and "vote: confidence 0.67 (2 of 3 samples); alternatives: 3 (1)" in out
    page = report.read_text()
    assert "<h2>Vote</h2>" in page and "confidence 0.67 over 3 samples" in page
    assert main(["ask", str(tiny_video), "?", "--samples", "0"]) == 2
    assert "samples must be" in capsys.readouterr().err
    assert main(["ask", str(tiny_video), "?", "--adaptive", "2"]) == 2
    assert "need --samples N" in capsys.readouterr().err
