"""Generation: determinism by seed, splits by video seed, directory format, CLI."""

from __future__ import annotations

import json

import pytest
from vidagent.cli import main
from vidagent.errors import ConfigError
from vidagent.tasks.questions import GENERATOR_VERSION
from vidagent.tasks.splits import SPLITS, split_of, video_seed
from vidagent.tasks.world.config import WorldConfig
from vidagent.tasks.world.generate import generate_video, generate_world, load_world, render_frames
from vidagent.tasks.world.scene import simulate
from vidagent.tasks.world.truth import load_ground_truth

SHORT = WorldConfig(min_duration_s=3, max_duration_s=4, questions_per_video=6)


def test_same_seed_same_video_truth_and_questions():
    a = generate_video(WorldConfig(), 42, "v", None)
    b = generate_video(WorldConfig(), 42, "v", None)
    assert a.truth.model_dump_json() == b.truth.model_dump_json()
    assert [q.model_dump_json() for q in a.questions] == [q.model_dump_json() for q in b.questions]
    c = generate_video(WorldConfig(), 43, "v", None)
    assert c.truth.model_dump_json() != a.truth.model_dump_json()


def test_same_seed_same_pixels():
    first = [f for _, f in zip(range(5), render_frames(simulate(SHORT, 7)))]
    again = [f for _, f in zip(range(5), render_frames(simulate(SHORT, 7)))]
    assert all((x == y).all() for x, y in zip(first, again))


def test_ground_truth_content():
    truth = generate_video(WorldConfig(), 11, "v", None).truth
    assert 6.0 <= truth.duration_s <= 20.0 and truth.fps == 10
    names = [o.name for o in truth.objects]
    assert len(names) == len(set(names))  # "the red car" names exactly one object
    for seg in truth.segments:
        assert seg.caption.startswith(truth.object(seg.track_id).name)
        assert 0 <= seg.start_frame < seg.end_frame <= truth.num_frames
    for obj in truth.objects:
        for frame, x1, y1, x2, y2, occluded in obj.boxes:
            assert 0 <= x1 < x2 <= truth.width and 0 <= y1 < y2 <= truth.height and 0 <= occluded <= 1


def test_actions_and_events_cover_the_vocabulary():
    seen, events = set(), set()
    config = WorldConfig(collision_prob=1.0)
    for seed in range(40):
        truth = generate_video(config, seed, "v", None).truth
        seen |= {s.action for s in truth.segments}
        events |= {e.type for e in truth.events}
    assert {"walk", "run", "jump", "fall", "lie", "stand", "wave", "drive", "stop", "roll", "fly"} <= seen
    assert len(seen) >= 12
    assert events == {"enter", "leave", "collide"}


def test_split_is_a_function_of_the_video_seed():
    seeds = [video_seed(0, i) for i in range(2000)]
    assert len(set(seeds)) == len(seeds)
    splits = [split_of(s) for s in seeds]
    assert splits == [split_of(s) for s in seeds]
    shares = {name: splits.count(name) / len(splits) for name in SPLITS}
    assert 0.75 < shares["train"] < 0.85 and 0.07 < shares["val"] < 0.13


def test_generate_world_directory(tmp_path):
    summary = generate_world(tmp_path, 4, seed=3, config=SHORT, workers=1, progress=False)
    assert summary.videos == 4 and summary.questions > 0
    world = load_world(tmp_path)
    assert world.generator_version == GENERATOR_VERSION == world.manifest["generator_version"]
    ids = [v for ids in world.manifest["splits"].values() for v in ids]
    assert sorted(ids) == sorted(world.truths) and len(ids) == len(set(ids)) == 4
    for name, members in world.manifest["splits"].items():
        for video_id in members:
            assert world.truths[video_id].split == name
            assert world.video_path(video_id).stat().st_size > 1000
    split_questions = [q for name in SPLITS for q in world.split(name)]
    assert len(split_questions) == len(world.questions)
    # regenerating gives byte-identical ground truth and questions
    again = tmp_path / "again"
    generate_world(again, 4, seed=3, config=SHORT, workers=1, progress=False)
    for video_id in world.truths:
        assert (again / f"{video_id}.json").read_text() == (tmp_path / f"{video_id}.json").read_text()
    assert (again / "questions.jsonl").read_text() == (tmp_path / "questions.jsonl").read_text()


def test_cli_generate_parallel_and_stats(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"min_duration_s": 2, "max_duration_s": 3}))
    out = tmp_path / "w"
    code = main(["world", "generate", "--videos", "3", "--seed", "5", "--out", str(out), "--workers", "2",
                 "--config", str(config), "--questions-per-video", "5", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "wrote 3 videos" in printed and f"generator {GENERATOR_VERSION}" in printed
    assert len(list(out.glob("*.mp4"))) == 3
    assert main(["world", "stats", str(out)]) == 0
    report = capsys.readouterr().out
    assert f"generator {GENERATOR_VERSION} (current)" in report
    for table in ("family", "answer type", "action (segments)", "class"):
        assert table in report


def test_cli_bad_config_is_a_clean_error(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"min_objects": -2}))
    code = main(["world", "generate", "--videos", "1", "--out", str(tmp_path / "w"), "--config", str(config)])
    assert code == 2
    assert "min_objects" in capsys.readouterr().err


def test_bad_inputs(tmp_path):
    with pytest.raises(ConfigError, match="--videos"):
        generate_world(tmp_path, 0, seed=0)
    with pytest.raises(ConfigError, match="not a world directory"):
        load_world(tmp_path)
    (tmp_path / "bad.json").write_text('{"video_id": "x"}')
    with pytest.raises(ConfigError, match="not a world ground-truth file"):
        load_ground_truth(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_ground_truth(tmp_path / "broken.json")
