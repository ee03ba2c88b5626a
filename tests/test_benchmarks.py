"""Real-benchmark loaders on tiny fixture files written in the exact published formats."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from vidagent.errors import ConfigError
from vidagent.tasks.benchmarks import load_activitynet_qa, load_charades_sta, load_nextqa
from vidagent.tasks.oracle import run_program
from vidagent.tasks.verify import verify
from vidagent.tools.results import GroundingResult, ScoredSpan

FIXTURES = Path(__file__).parent / "fixtures" / "benchmarks"


def test_nextqa_multiple_choice():
    questions = load_nextqa(FIXTURES / "nextqa_val.csv")
    assert len(questions) == 4
    first = questions[0]
    assert first.source == "nextqa" and first.family == "causal" and first.answer_type == "choice"
    assert first.answer == "to throw it to the dog" and len(first.choices) == 5
    assert first.text == "why did the boy pick up the ball?"
    assert [q.family for q in questions] == ["causal", "temporal", "count", "location"]
    assert questions[3].choices[4] == "car, parked"  # quoted comma survives
    assert verify(first, "D").correct and not verify(first, "A").correct


def test_nextqa_resolves_videos_through_the_map(tmp_path):
    (tmp_path / "0001").mkdir()
    (tmp_path / "0001" / "5012345678.mp4").write_bytes(b"")
    questions = load_nextqa(FIXTURES / "nextqa_val.csv", video_root=tmp_path,
                            video_map=FIXTURES / "map_vid_vidorID.json")
    assert questions[0].video_file == str(tmp_path / "0001" / "5012345678.mp4")
    assert questions[2].video_file is None  # not on disk


def test_charades_sta_intervals_with_oracle_program():
    questions = load_charades_sta(FIXTURES / "charades_sta_test.txt")
    assert len(questions) == 3
    q = questions[0]
    assert q.video == "AB12C" and q.answer == [1.2, 6.8] and q.answer_type == "interval"
    assert "person opens a door" in q.text and q.family == "grounding"
    # the program asks ground_moment for the sentence and returns its best span
    fake = lambda name, args: GroundingResult(args["query"], [ScoredSpan(2.0, 6.8, 0.9)])
    answer = run_program(q.program, fake).answer
    assert verify(q, answer).iou == pytest.approx(4.8 / 5.6)


def test_activitynet_qa_join_and_types():
    questions = load_activitynet_qa(FIXTURES / "activitynet_qa" / "test_q.json")  # finds test_a.json
    assert [q.family for q in questions] == ["yesno", "attribute", "count", "temporal"]
    assert questions[2].answer == 3.0 and questions[2].answer_type == "number"
    assert questions[1].answer == "brown" and questions[1].answer_type == "label"
    assert verify(questions[0], "Yes").correct and verify(questions[2], "three").correct
    assert verify(questions[3], "drink water.").correct


def test_activitynet_finds_videos_with_or_without_prefix(tmp_path):
    (tmp_path / "QrStUv45678.mp4").write_bytes(b"")
    questions = load_activitynet_qa(FIXTURES / "activitynet_qa" / "test_q.json", video_root=tmp_path)
    assert questions[2].video_file == str(tmp_path / "QrStUv45678.mp4")


def test_loaders_pointed_at_the_wrong_format():
    with pytest.raises(ConfigError, match="NExT-QA multiple-choice CSV: missing columns"):
        load_nextqa(FIXTURES / "charades_sta_test.txt")
    with pytest.raises(ConfigError, match="not a Charades-STA line"):
        load_charades_sta(FIXTURES / "nextqa_val.csv")
    with pytest.raises(ConfigError, match="not JSON"):
        load_activitynet_qa(FIXTURES / "nextqa_val.csv", FIXTURES / "nextqa_val.csv")
    with pytest.raises(ConfigError, match="lacks"):
        load_activitynet_qa(FIXTURES / "activitynet_qa" / "test_a.json", FIXTURES / "activitynet_qa" / "test_a.json")
    with pytest.raises(ConfigError, match="does not exist"):
        load_charades_sta(FIXTURES / "missing.txt")


def test_bad_rows_name_the_line(tmp_path):
    bad = tmp_path / "val.csv"
    text = (FIXTURES / "nextqa_val.csv").read_text().replace(",3,2,CW,", ",7,2,CW,")
    bad.write_text(text)
    with pytest.raises(ConfigError, match=r"val.csv:2"):
        load_nextqa(bad)
    lines = tmp_path / "sta.txt"
    lines.write_text("AB12C 1.2 6.8##ok.\nAB12C 1.2##missing end\n")
    with pytest.raises(ConfigError, match=r"sta.txt:2"):
        load_charades_sta(lines)
    q_dir = tmp_path / "anet"
    shutil.copytree(FIXTURES / "activitynet_qa", q_dir)
    (q_dir / "test_a.json").write_text('[{"answer": "yes", "type": 3, "question_id": "other"}]')
    with pytest.raises(ConfigError, match="no answer for question"):
        load_activitynet_qa(q_dir / "test_q.json")
