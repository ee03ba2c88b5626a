"""Long world videos (``vidagent world long``): one H.264 video of the requested length made of world scenes,
ground truth in the short videos' schema that the world-truth tools answer from, whole-video questions whose
oracle programs give their answers, and a directory that eval loads unchanged."""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from pydantic import ValidationError
from vidagent.cli import main
from vidagent.errors import ConfigError
from vidagent.policies.environment import WorldData
from vidagent.tasks.oracle import GroundTruthTools, ProgramError, compose, ref, run_program, track_span
from vidagent.tasks.questions import load_questions
from vidagent.tasks.verify import verify
from vidagent.tasks.world import long as long_module
from vidagent.tasks.world.config import WorldConfig
from vidagent.tasks.world.generate import MANIFEST, QUESTIONS, STAGING, UNFINISHED, load_world
from vidagent.tasks.world.long import MIN_SEEN_S, generate_long_video, generate_long_world, long_questions
from vidagent.tasks.world.truth import load_ground_truth
from vidagent.tools.video import VideoRef, decode_all_sequential

WHOLE_VIDEO_FAMILIES = {"count", "existence", "grounding", "order", "appearance"}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("long") / "w"
    generate_long_world(out, [0.5], seed=7, videos_per_length=1, progress=False)
    return out


@pytest.fixture(scope="module")
def truth(world):
    (video_id,) = json.loads((world / MANIFEST).read_text())["splits"]["test"]
    return load_ground_truth(world / f"{video_id}.json")


@pytest.fixture(scope="module")
def many(truth):
    """Nearly every candidate question of the video: all the families, each checked below."""
    return long_questions(truth, 100, truth.seed)


@pytest.fixture(scope="module")
def two_minutes():
    """A 2-minute video's truth (no pixels) and nearly all its candidate questions: more scenes, so more
    kinds that recur, and "last" appearance questions, which the 30-second video has none of."""
    video = generate_long_video(WorldConfig(), 7, "long-7-2min-00", 2.0, None)
    return video.truth, long_questions(video.truth, 200, video.truth.seed)


@pytest.fixture(params=["thirty_seconds", "two_minutes"])
def asked(request, truth, many):
    return (truth, many) if request.param == "thirty_seconds" else request.getfixturevalue("two_minutes")


def test_the_video_decodes_and_lasts_the_requested_length(world, truth):
    ref = VideoRef.open(world / truth.video_file)
    assert ref.codec == "h264" and (ref.width, ref.height, ref.fps) == (320, 240, 10.0)
    assert ref.frame_count == truth.num_frames == 300 and abs(ref.duration_s - 30.0) < 0.2
    assert truth.duration_s == 30.0 and truth.split == "test"
    assert decode_all_sequential(ref) == 300


def test_the_directory_is_a_finished_long_world(world, truth):
    manifest = json.loads((world / MANIFEST).read_text())
    assert manifest["kind"] == "long" and manifest["minutes"] == [0.5] and manifest["seed"] == 7
    assert manifest["splits"] == {"train": [], "val": [], "test": [truth.video_id]}
    assert sorted(p.name for p in world.iterdir()) == sorted([MANIFEST, QUESTIONS, truth.video_file,
                                                              f"{truth.video_id}.json"])
    assert not (world / UNFINISHED).exists() and not (world / STAGING).exists()
    scenes = manifest["long_videos"][truth.video_id]["scenes"]
    assert len(scenes) >= 2 and scenes[0]["start_s"] == 0.0 and scenes[-1]["end_s"] == 30.0
    assert all(a["end_s"] == b["start_s"] for a, b in pairwise(scenes))
    assert sum(s["frames"] for s in scenes) == truth.num_frames
    assert len({s["seed"] for s in scenes}) == len(scenes)


def test_ground_truth_times_are_consistent(world, truth):
    scenes = json.loads((world / MANIFEST).read_text())["long_videos"][truth.video_id]["scenes"]
    ids = [o.track_id for o in truth.objects]
    assert len(ids) == len(set(ids)) and ids == list(range(1, len(ids) + 1))
    for obj in truth.objects:
        scene = scenes[int(obj.attributes["scene"])]
        first, last = round(scene["start_s"] * truth.fps), round(scene["end_s"] * truth.fps)
        frames = [b[0] for b in obj.boxes]
        assert frames == sorted(frames) and len(set(frames)) == len(frames)
        assert first <= frames[0] and frames[-1] < last, "an object stays in its own scene"
        for _, x1, y1, x2, y2, _ in obj.boxes:
            assert 0 <= x1 <= x2 <= truth.width - 1 and 0 <= y1 <= y2 <= truth.height - 1
    for seg in truth.segments:
        assert 0 <= seg.start_frame < seg.end_frame <= truth.num_frames
        assert (seg.start_s, seg.end_s) == (round(seg.start_frame / 10, 3), round(seg.end_frame / 10, 3))
        boxes = {b[0] for b in truth.object(seg.track_id).boxes}
        assert set(range(seg.start_frame, seg.end_frame)) <= boxes
    for event in truth.events:
        assert 0 <= event.frame < truth.num_frames and event.t_s == round(event.frame / 10, 3)
        assert all(truth.object(t) for t in event.track_ids)


def test_every_question_has_a_program_that_answers_it(asked):
    truth, many = asked
    tools = GroundTruthTools(truth)
    families = Counter(q.family for q in many)
    assert WHOLE_VIDEO_FAMILIES <= set(families), families
    for q in many:
        assert q.program is not None, q.text
        run = run_program(q.program, tools.call)
        assert verify(q, run.answer).correct, (q.text, q.answer, run.answer)
        assert len(run.steps) == q.hops == q.program.hops


def test_appearance_answers_are_what_the_detector_reports(asked, two_minutes):
    truth, many = asked
    tools = GroundTruthTools(truth)
    appearance = [q for q in many if q.family == "appearance"]
    assert appearance and all(q.answer_type == "interval" for q in appearance)
    if asked is two_minutes:
        assert {q.program.answer.args["which"] for q in appearance} == {"first", "last"}
    for q in appearance:
        (call,) = q.program.calls
        label, color = q.program.answer.args["label"], q.program.answer.args["color"]
        assert call.tool == "detect_objects" and call.args == {"start_s": 0.0, "end_s": truth.duration_s,
                                                              "classes": [label]}
        assert f"{color} {label}" in q.text and q.program.answer.op == "track_span"
        det = tools.call("detect_objects", call.args)
        seen = sorted((t.first_s, t.last_s) for t in det.tracks if t.color == color)
        first, last = seen[0], max(seen, key=lambda span: (span[1], span[0]))
        assert tuple(q.answer) == (last if q.program.answer.args["which"] == "last" else first)
        assert run_program(q.program, tools.call).answer == q.answer  # the same span, not only IoU >= 0.5
        if len(seen) == 1:
            assert "first" not in q.text and "last" not in q.text


def test_track_span_picks_the_first_and_last_seen_track_and_explains_bad_arguments(truth):
    tools = GroundTruthTools(truth)
    obj = max(truth.objects, key=lambda o: len(o.visible_boxes()))
    det = tools.call("detect_objects", {"start_s": 0.0, "end_s": truth.duration_s})
    spans = [(t.first_s, t.last_s) for t in det.tracks if (t.label, t.color) == (obj.category, obj.color)]
    assert track_span(det, obj.category, obj.color) == list(min(spans))
    assert track_span(det, obj.category, obj.color, "last") == list(max(spans, key=lambda s: (s[1], s[0])))
    frame = tools.call("describe_frame", {"t_s": 0.0})
    with pytest.raises(ProgramError, match="track_span: expected detect_objects output, got FrameDescription"):
        track_span(frame, obj.category)
    with pytest.raises(ProgramError, match="which='middle' is not 'first' or 'last'"):
        track_span(det, obj.category, which="middle")
    with pytest.raises(ProgramError, match="no purple unicorn track"):
        track_span(det, "unicorn", "purple")
    with pytest.raises(ValidationError, match="which='middle' is not one of \\['first', 'last'\\]"):
        compose("track_span", result=ref("det"), which="middle")
    with pytest.raises(ValidationError, match="needs argument\\(s\\) \\['result'\\]"):
        compose("track_span", label="person")
    with pytest.raises(ValidationError, match="has no argument\\(s\\) \\['colour'\\]"):
        compose("track_span", result=ref("det"), colour="red")


def test_questions_are_unique_and_about_the_whole_video(truth, many):
    captions = Counter([s.caption for s in truth.segments] + [e.caption for e in truth.events])
    unclear = {o.track_id for o in truth.objects
               if o.attributes.get("cut") or len(o.visible_boxes()) < MIN_SEEN_S * truth.fps}
    for q in many:
        queries = [c.args["query"] for c in q.program.calls if c.tool == "ground_moment"]
        assert all(captions[text] == 1 for text in queries), q.text  # the needle happens once
        if q.family == "order":
            (a, b) = q.evidence
            assert abs(a.start_s - b.start_s) >= truth.duration_s / 4
        if q.family == "count" and q.program.calls[0].args.get("end_s") == truth.duration_s:
            label, color = q.program.answer.args.get("label"), q.program.answer.args.get("color")
            matching = {o.track_id for o in truth.objects
                        if label in (None, o.category) and color in (None, o.color)}
            assert not matching & unclear, q.text  # nothing half seen at a cut is counted
    assert len({q.text for q in many}) == len(many)


def test_world_data_loads_it_for_eval(world, truth):
    data = WorldData.load(world)
    written = load_questions(world / QUESTIONS)
    found = data.questions("test", seed=0)
    assert all(q.program is not None for q in written)
    assert {q.id for q in found} == {q.id for q in written}
    assert all(q.video == truth.video_id for q in found) and len(written) == 12
    assert Path(data.video_path(found[0])).is_file()
    assert load_world(world).generator_version == written[0].generator_version


def test_eval_oracle_row_on_world_truth(world, tmp_path):
    out = tmp_path / "eval"
    assert main(["eval", "--world", str(world), "--suite", "world:test", "--tools", "world-truth", "--rows",
                 "oracle", "--out", str(out)]) == 0
    row = json.loads(out.with_suffix(".json").read_text())["rows"][0]
    assert row["accuracy"] == 1.0 and row["questions"] > 0


def files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in [*root.glob("long-*"), root / QUESTIONS]}


def test_cli_makes_the_same_world_again_and_refuses_to_mix(tmp_path, capsys):
    out = tmp_path / "w"
    command = ["world", "long", "--out", str(out), "--minutes", "0.1", "--videos-per-length", "1",
               "--seed", "1", "--questions-per-video", "5", "--json"]
    assert main(command) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["videos"] == 1 and summary["frames"] == 60 and summary["questions"] == 5
    assert "world long: 1/1 long-1-0p1min-00" in captured.err
    before = files(out)
    assert main(command) == 2
    assert "is not empty: it holds a world" in capsys.readouterr().err
    assert main([*command, "--overwrite"]) == 0
    assert files(out) == before  # deterministic in the seed


@pytest.mark.parametrize("minutes, message", [("0", "must be positive, got 0"), ("-2", "must be positive"),
                                              ("61", "outside 0.1-60"), ("nan", "must be positive")])
def test_bad_lengths_are_config_errors(tmp_path, capsys, minutes, message):
    out = tmp_path / "w"
    assert main(["world", "long", "--out", str(out), "--minutes", "1", minutes]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --minutes") and message in err and "fix: pass lengths in minutes" in err
    assert not out.exists()
    with pytest.raises(ConfigError, match=message):
        generate_long_world(out, [float(minutes)])


def test_bad_counts_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="--videos-per-length must be at least 1"):
        generate_long_world(tmp_path / "w", [1], videos_per_length=0)
    with pytest.raises(ConfigError, match="names 1 twice"):
        generate_long_world(tmp_path / "w", [1, 1.0])
    with pytest.raises(ConfigError, match="--questions-per-video cannot be negative"):
        generate_long_world(tmp_path / "w", [1], questions_per_video=-1)
    assert not (tmp_path / "w").exists()


def test_an_interrupted_run_is_not_a_world(tmp_path, monkeypatch):
    real = long_module.render_frames

    def render(scene):
        yield from list(real(scene))[:5]
        raise KeyboardInterrupt

    monkeypatch.setattr(long_module, "render_frames", render)
    out = tmp_path / "w"
    with pytest.raises(KeyboardInterrupt):
        generate_long_world(out, [0.1], videos_per_length=1, progress=False)
    assert (out / UNFINISHED).is_file() and not (out / MANIFEST).exists()
    assert not list(out.glob("long-*")) and not list((out / STAGING).iterdir())
    with pytest.raises(ConfigError, match="unfinished world"):
        load_world(out)
    with pytest.raises(ConfigError, match="holds an unfinished world"):
        generate_long_world(out, [0.1], videos_per_length=1, progress=False)
