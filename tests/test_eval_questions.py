"""`vidagent eval --questions FILE.jsonl --videos DIR`: a user's own labelled questions over their own videos.

Fast: the videos are the bundled examples/world clips, the tools either the world's ground truth (registered
here as a fake profile, or with --world) or the world profile's lazy models that the prior row never calls,
and the chat model is scripted."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from vidagent.agent.chat_models.scripted import ScriptedChatModel
from vidagent.cli import main
from vidagent.errors import ConfigError
from vidagent.policies import evaluate
from vidagent.policies.environment import QuestionFile, WorldData, check_profile, make_toolbox
from vidagent.policies.evaluate import (
    Outcome,
    RowReport,
    default_tools,
    evaluate_agent,
    markdown_table,
    same_generator,
    write_report,
)
from vidagent.tasks.questions import GENERATOR_VERSION, Question
from vidagent.tasks.verify import verify
from vidagent.tasks.world_truth import WorldTruth
from vidagent.tools.profiles import DEFAULT_PROFILE, PROFILES
from vidagent.tools.toolbox import Toolbox

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "world"
OWN = {"id": "own-taxi", "video": "street", "family": "descriptive", "text": "What word is written on the sign?",
       "answer": "TAXI", "answer_type": "label"}  # no program, no video_file: found as DIR/street.mp4


def street_lines(n: int) -> list[str]:
    lines = (EXAMPLES / "questions.jsonl").read_text().splitlines()
    return [line for line in lines if json.loads(line)["video"] == "street"][:n]


@pytest.fixture()
def questions_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(street_lines(3) + [json.dumps(OWN)]) + "\n")
    return path


@pytest.fixture()
def fake_real(monkeypatch):
    """A profile named "real" whose perception is the example world's ground truth (no real models)."""
    truth = WorldData.load(EXAMPLES).truth_by_path()
    monkeypatch.setitem(PROFILES, "real", ("fake real: the example world's truth", lambda: WorldTruth(truth)))


@pytest.fixture()
def scripted_prior(monkeypatch):
    def load(spec, **options):
        return ScriptedChatModel(replies=["<answer>taxi</answer>"], repeat_last=True)

    monkeypatch.setattr(evaluate, "load_eval_planner", load)


def run(*argv: str) -> int:
    return main(["eval", *argv])


def test_a_questions_file_runs_prior_and_oracle_on_the_default_profile(questions_file, tmp_path, fake_real,
                                                                       scripted_prior, capsys):
    out = tmp_path / "eval"
    assert run("--questions", str(questions_file), "--videos", str(EXAMPLES), "--rows", "prior,oracle",
               "--out", str(out)) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    digest = hashlib.sha256(questions_file.read_bytes()).hexdigest()
    assert data["tools"] == "real" and data["questions"] == 4 and "world" not in data
    assert data["questions_sha256"] == digest and data["suite"] == "questions:questions.jsonl"
    assert data["generator_version"] == f"questions-file:questions.jsonl@sha256:{digest}"
    prior, oracle = data["rows"]
    assert [r["generator_version"] for r in data["rows"]] == [data["generator_version"]] * 2
    # the prior said "taxi" everywhere: the on-screen word scores whatever its case
    assert {o["id"]: o["correct"] for o in prior["outcomes"]}["own-taxi"] is True
    assert prior["questions"] == 4 and prior["evidence_rate"] == 0.0  # no tools, no evidence
    # the oracle row runs the 3 questions with a program, skips the other (not counted wrong)
    assert oracle["skipped"] == ["own-taxi"] and oracle["questions"] == 3 and oracle["accuracy"] == 1.0
    assert oracle["evidence_rate"] is None and data["skipped"] == {oracle["name"]: 1}
    table = out.with_suffix(".md").read_text()
    assert "evidence %" in table and "from questions file questions.jsonl (sha256 " in table
    assert "4 questions per row" in table
    assert f"{oracle['name']}: 1 of 4 skipped (no oracle program)" in table
    assert "have no program: skipped" in capsys.readouterr().err


def test_no_world_is_needed_and_limit_takes_the_first_n(questions_file, tmp_path, scripted_prior):
    out = tmp_path / "eval"
    assert run("--questions", str(questions_file), "--videos", str(EXAMPLES), "--tools", "world",
               "--rows", "prior", "--limit", "2", "--out", str(out)) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["questions"] == 2 and data["tools"] == "world" and len(data["rows"][0]["outcomes"]) == 2
    # the same seed gives the same first 2 of the file's seeded order
    expected = [q.id for q in QuestionFile.load(questions_file, EXAMPLES).questions(2, seed=0)]
    assert [o["id"] for o in data["rows"][0]["outcomes"]] == expected


def test_videos_default_to_the_questions_files_folder(tmp_path):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "street.mp4").write_bytes((EXAMPLES / "street.mp4").read_bytes())
    path = tmp_path / "clips" / "q.jsonl"
    path.write_text(json.dumps(OWN) + "\n" + street_lines(1)[0] + "\n")
    qfile = QuestionFile.load(path)
    assert set(qfile.videos.values()) == {str((tmp_path / "clips" / "street.mp4").resolve())}


def test_the_oracle_row_with_world_truth_needs_a_world_and_takes_one(questions_file, tmp_path, capsys):
    out = tmp_path / "eval"
    assert run("--questions", str(questions_file), "--videos", str(EXAMPLES), "--tools", "world-truth",
               "--rows", "oracle", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "need a world directory" in err and "pass --world DIR" in err
    assert run("--questions", str(questions_file), "--videos", str(EXAMPLES), "--world", str(EXAMPLES),
               "--tools", "world-truth", "--rows", "oracle", "--out", str(out)) == 0
    assert json.loads(out.with_suffix(".json").read_text())["rows"][0]["accuracy"] == 1.0


def test_a_missing_video_names_the_questions_and_the_fix(tmp_path, capsys):
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps({**OWN, "id": f"q{i}", "video": f"nope{i}"}) + "\n" for i in range(7)))
    with pytest.raises(ConfigError, match="7 of 7 questions .* have no video under") as error:
        QuestionFile.load(path, EXAMPLES)
    assert "q0 (video 'nope0': tried " in error.value.problem and "and 2 more" in error.value.problem
    assert "pass --videos DIR where the clips are" in error.value.fix
    assert "vidagent clips fetch" in error.value.fix
    assert run("--questions", str(path), "--videos", str(EXAMPLES), "--out", str(tmp_path / "e")) == 2
    assert "have no video" in capsys.readouterr().err


def test_a_bad_line_is_the_loaders_error(tmp_path, capsys):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(OWN) + "\n" + json.dumps({**OWN, "answer_type": "colour"}) + "\n")
    assert run("--questions", str(path), "--videos", str(EXAMPLES), "--out", str(tmp_path / "e")) == 2
    assert f"{path}:2 is not a valid question" in capsys.readouterr().err


def test_the_old_questions_n_says_it_is_limit_now(capsys):
    assert run("--world", str(EXAMPLES), "--questions", "50") == 2
    err = capsys.readouterr().err
    assert "--questions takes a questions file now" in err and "pass --limit 50" in err


def test_a_world_suite_takes_limit(tmp_path):
    out = tmp_path / "eval"
    assert run("--world", str(EXAMPLES), "--suite", "world:test", "--tools", "world-truth", "--rows", "oracle",
               "--limit", "3", "--out", str(out)) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["questions"] == 3 and data["generator_version"] == GENERATOR_VERSION
    assert "world" in data and "questions_sha256" not in data


@pytest.mark.parametrize("argv, said", [
    (["--world", str(EXAMPLES), "--limit", "0"], "--limit must be >= 1"),
    (["--world", str(EXAMPLES), "--videos", str(EXAMPLES)], "--videos goes with --questions"),
    (["--questions", str(EXAMPLES / "questions.jsonl"), "--suite", "world:test"], "the file is the suite"),
])
def test_flags_that_do_not_go_together(argv, said, capsys):
    assert run(*argv) == 2
    assert said in capsys.readouterr().err


def test_evidence_rate_counts_answers_that_cite_tool_evidence(tmp_path):
    world = WorldData.load(EXAMPLES)
    question = next(q for q in world.world.questions if q.id == "street-q09")  # 2 people when the car stops
    toolbox = make_toolbox("world-truth", world)
    call = ("detect_objects", {"start_s": 4.8, "end_s": 5.9, "classes": ["person"]})
    cited = evaluate_agent("tools", "scripted", ScriptedChatModel.from_program([call], "2"), toolbox, [question],
                           world.video_path, max_tool_calls=2, concurrency=1)
    bare = evaluate_agent("no tools", "scripted", ScriptedChatModel(replies=["<answer>2</answer>"]), Toolbox([]),
                          [question], world.video_path, max_tool_calls=0, concurrency=1)
    assert cited.evidence_rate == 1.0 and cited.accuracy == 1.0 and bare.evidence_rate == 0.0
    json_path, md_path = write_report([cited, bare], tmp_path / "r", {"command": "x"})
    rows = json.loads(json_path.read_text())["rows"]
    assert [r["evidence_rate"] for r in rows] == [1.0, 0.0]
    assert RowReport.from_dict(rows[0]).evidence_rate == 1.0
    assert "| tools | 100.0 |" in md_path.read_text()


def test_rows_of_old_reports_still_load():
    row = RowReport.from_outcomes("a", "x", [Outcome("q0", "count", True, None, True, 1, 1, 0, 0.1, 1)]).to_dict()
    for key in ("evidence_rate", "skipped", "generator_version", "crashed"):
        del row[key]
    back = RowReport.from_dict({**row, "from_a_later_version": 1})
    assert back.evidence_rate is None and back.skipped == [] and back.accuracy == 1.0


def test_rows_of_a_questions_file_never_sit_beside_rows_of_a_world_or_another_file():
    def row(version: str) -> RowReport:
        report = RowReport.from_outcomes(version, "x", [Outcome("q0", "count", True, None, True, 1, 1, 0, 0.1, 1)])
        report.generator_version = version
        return report

    mine, other = "questions-file:q.jsonl@sha256:" + "a" * 64, "questions-file:q.jsonl@sha256:" + "b" * 64
    assert same_generator([row(mine), row(mine)]) == mine
    for pair in ([row(mine), row(GENERATOR_VERSION)], [row(mine), row(other)]):
        with pytest.raises(ConfigError, match="different question sets") as error:
            markdown_table(pair)
        assert "the same questions file" in error.value.fix


@pytest.mark.parametrize("gold, kind, choices, said, correct", [
    ("bicycle", "label", [], "bike", True),
    ("bike", "label", [], "bicycle", True),
    ("yes", "label", [], "Yes.", True),
    ("no", "label", [], "Yes.", False),
    ("TAXI", "label", [], "taxi", True),
    ("taxi", "label", [], "TAXI", True),
    ("walk", "choice", ["run", "walk"], "B", True),
    ("walk", "choice", ["run", "walk"], "walking", True),
    ("walk", "choice", ["run", "walk"], "A", False),
    (3, "number", [], "three", True),
    (3, "number", [], "4", False),
    ([1.0, 3.0], "interval", [], "1.2-3.0 s", True),
    ([1.0, 3.0], "interval", [], "2.5-6.0", False),
])
def test_each_answer_type_is_scored(gold, kind, choices, said, correct):
    question = Question(id="x", video="v", family="other", text="?", answer=gold, answer_type=kind, choices=choices)
    assert verify(question, said).correct is correct


def test_every_profile_but_world_truth_builds_without_a_world(fake_real):
    for profile in ("world", "real"):
        check_profile(profile)  # "real" is a profile again, not the old name of "world"
        assert "detect_objects" in make_toolbox(profile, None).names
    assert default_tools(questions_file=True) == "real" and default_tools(questions_file=False) == "world"


def test_without_a_real_profile_a_questions_file_falls_back_to_the_default(monkeypatch, capsys):
    monkeypatch.delitem(PROFILES, "real", raising=False)
    assert default_tools(questions_file=True) == DEFAULT_PROFILE
    assert "no tool profile 'real'" in capsys.readouterr().err


def test_sampled_rows_vote_and_report_calibration(questions_file, tmp_path, fake_real, monkeypatch, capsys):
    """--samples 3 on a planner row: each question is a vote of 3 runs; the row gets ECE and a reliability
    PNG. The scripted planner answers "taxi" in two runs of three and "bus" in the third."""
    import itertools
    import threading

    counter, lock = itertools.count(), threading.Lock()

    def reply(_messages):
        with lock:
            return "<answer>taxi</answer>" if next(counter) % 3 else "<answer>bus</answer>"

    monkeypatch.setattr(evaluate, "load_eval_planner",
                        lambda spec, **options: ScriptedChatModel(replies=[reply], repeat_last=True))
    out = tmp_path / "eval"
    assert run("--questions", str(questions_file), "--videos", str(EXAMPLES), "--rows", "planners",
               "--planner", "scripted=default", "--samples", "3", "--concurrency", "1", "--out", str(out)) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    (row,) = data["rows"]
    assert row["name"] == "scripted, vote of 3" and row["samples"] == 3 and data["samples"] == 3
    confidence = {o["id"]: o["confidence"] for o in row["outcomes"]}
    assert confidence["own-taxi"] == pytest.approx(2 / 3)  # a label question: "taxi" 2 votes, "bus" 1
    # "taxi" to a number or yes/no question is sent back once for another reply: any share of 3 can come out
    assert {round(c, 3) for c in confidence.values()} <= {0.0, 0.333, 0.667, 1.0}
    assert row["ece"] is not None and 0.0 <= row["ece"] <= 1.0
    assert "| samples | ECE |" in out.with_suffix(".md").read_text()
    assert out.with_suffix(".reliability.png").read_bytes()[:4] == b"\x89PNG"
    taxi = next(o for o in row["outcomes"] if o["id"] == "own-taxi")
    assert sorted(s["value"] for s in taxi["sampled"]) == ["bus", "taxi", "taxi"]  # every sample is kept
    assert {s["value"]: s["correct"] for s in taxi["sampled"]} == {"taxi": True, "bus": False}
    # the scaling curve is read from those samples: a vote of 1 is right 2 times in 3 on that question
    curve = tmp_path / "curve"
    assert main(["scaling", str(out.with_suffix(".json")), "--draws", "60", "--out", str(curve)]) == 0
    points = json.loads(curve.with_suffix(".json").read_text())["rows"][0]["points"]
    assert [p["mode"] for p in points][:3] == ["vote of 1", "vote of 2", "adaptive 2 of 3"]
    assert "| vote of 1 | plain |" in curve.with_suffix(".md").read_text()
    assert run("--questions", str(questions_file), "--samples", "0") == 2
    assert "samples must be" in capsys.readouterr().err
