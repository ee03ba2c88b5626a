"""Generation runs from any caller and never mixes runs: worker processes that cannot start (a program read
from stdin, a script without a __main__ guard) fall back to this process instead of respawning forever; an
interrupted run leaves complete files that a later run refuses or, with --resume, finishes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from vidagent.cli import main
from vidagent.errors import ConfigError
from vidagent.tasks.world import generate as generate_module
from vidagent.tasks.world.config import WorldConfig
from vidagent.tasks.world.generate import MANIFEST, QUESTIONS, STAGING, UNFINISHED, generate_world, load_world

ROOT = Path(__file__).resolve().parents[1]
SHORT = WorldConfig(min_duration_s=2, max_duration_s=3, questions_per_video=4)
SHORT_FIELDS = "dict(min_duration_s=2, max_duration_s=3, questions_per_video=4)"
BIN = Path(sys.executable).parent


def run_python(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    # a timeout: the bug this guards against is a hang with endless worker respawns
    return subprocess.run([sys.executable, *args], check=False, input=stdin, cwd=cwd, capture_output=True,
                          text=True, timeout=180)


def video_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("world-*") if p.suffix in (".mp4", ".json"))


def test_the_library_runs_in_the_calling_process_by_default():
    import inspect

    assert inspect.signature(generate_world).parameters["workers"].default == 1


def test_workers_from_a_program_read_from_stdin_fall_back_to_this_process(tmp_path):
    code = ("from vidagent.tasks.world.config import WorldConfig\n"
            "from vidagent.tasks.world.generate import generate_world\n"
            f"s = generate_world('w', videos=2, seed=0, config=WorldConfig(**{SHORT_FIELDS}), workers=2, "
            "progress=False)\n"
            "print('done', s.videos)\n")
    done = run_python(["-"], tmp_path, stdin=code)
    assert done.returncode == 0, done.stderr
    assert "done 2" in done.stdout
    assert "cannot import the main program '<stdin>'" in done.stderr
    assert "generating in this process" in done.stderr
    assert "Traceback" not in done.stderr


def test_workers_from_a_script_without_main_guard_fall_back_once(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text("from vidagent.tasks.world.config import WorldConfig\n"
                      "from vidagent.tasks.world.generate import generate_world\n"
                      f"s = generate_world('w', videos=3, seed=0, config=WorldConfig(**{SHORT_FIELDS}), "
                      "workers=2, progress=False)\n"
                      "print('done', s.videos)\n")
    done = run_python([str(script)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("done 3") == 1  # the workers did not run the script's generation again
    assert "worker processes exited as they started" in done.stderr
    assert "Traceback" not in done.stderr and "bootstrapping" not in done.stderr
    assert len(load_world(tmp_path / "w").truths) == 3


def test_the_docs_python_snippet_runs_as_written_twice(tmp_path):
    snippet = re.search(r"```python\n(.*?)```", (ROOT / "docs" / "world.md").read_text(), re.DOTALL).group(1)
    assert "generate_world(" in snippet
    for _ in range(2):  # the second run finds the world of the first and keeps it (resume=True)
        done = run_python(["-"], tmp_path, stdin=snippet)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr


def interrupt_after(monkeypatch: pytest.MonkeyPatch, videos: int) -> None:
    """Make the (videos + 1)-th render raise KeyboardInterrupt halfway through writing its file."""
    real = generate_module.render_video
    calls = []

    def render(scene, path, crf=26):
        calls.append(path)
        if len(calls) > videos:
            Path(path).write_bytes(b"half a video")
            raise KeyboardInterrupt
        return real(scene, path, crf)

    monkeypatch.setattr(generate_module, "render_video", render)


def test_an_interrupted_run_is_refused_then_resumed_to_the_same_world(tmp_path, monkeypatch):
    out = tmp_path / "w"
    interrupt_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        generate_world(out, 4, seed=3, config=SHORT, progress=False)
    monkeypatch.undo()
    assert not (out / MANIFEST).exists() and (out / UNFINISHED).is_file()
    assert video_files(out) == [f"world-3-0000{i}{ext}" for i in range(2) for ext in (".json", ".mp4")]
    assert not list((out / STAGING).iterdir())  # the half-written video was removed
    with pytest.raises(ConfigError, match="unfinished world"):
        load_world(out)
    with pytest.raises(ConfigError, match="not empty: it holds an unfinished world .* seed 3, 4 videos"):
        generate_world(out, 2, seed=3, config=SHORT, progress=False)  # a smaller run never mixes in
    with pytest.raises(ConfigError, match="videos differs"):
        generate_world(out, 2, seed=3, config=SHORT, progress=False, resume=True)
    with pytest.raises(ConfigError, match="config differs"):
        generate_world(out, 4, seed=3, config=WorldConfig(min_duration_s=2, max_duration_s=4), resume=True)

    summary = generate_world(out, 4, seed=3, config=SHORT, progress=False, resume=True)
    assert summary.videos == 4 and summary.reused == 2
    assert not (out / UNFINISHED).exists() and not (out / STAGING).exists()
    fresh = tmp_path / "fresh"
    generate_world(fresh, 4, seed=3, config=SHORT, progress=False)
    for name in [MANIFEST, QUESTIONS, *video_files(fresh)]:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in fresh.iterdir())

    with pytest.raises(ConfigError, match="not empty: it holds a world of seed 3, 4 videos"):
        generate_world(out, 4, seed=3, config=SHORT, progress=False)
    assert generate_world(out, 4, seed=3, config=SHORT, progress=False, resume=True).reused == 4


def test_orphan_videos_are_refused_or_deleted_never_mixed_in(tmp_path):
    source = tmp_path / "source"
    generate_world(source, 3, seed=5, config=SHORT, progress=False)
    out = tmp_path / "orphans"  # what an interrupted run of older code left: videos, no manifest, no record
    out.mkdir()
    for name in video_files(source):
        (out / name).write_bytes((source / name).read_bytes())
    for resume in (False, True):
        with pytest.raises(ConfigError, match="holds no world.json"):
            generate_world(out, 2, seed=5, config=SHORT, progress=False, resume=resume)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="also holds notes.txt"):
        generate_world(out, 2, seed=5, config=SHORT, progress=False, overwrite=True)
    assert len(video_files(out)) == 6  # nothing was deleted
    (out / "notes.txt").unlink()
    summary = generate_world(out, 2, seed=5, config=SHORT, progress=False, overwrite=True)
    assert summary.videos == 2
    assert video_files(out) == [f"world-5-0000{i}{ext}" for i in range(2) for ext in (".json", ".mp4")]
    assert len(load_world(out).truths) == 2


def test_contradicting_flags_and_bad_counts(tmp_path):
    with pytest.raises(ConfigError, match="--resume keeps .* --overwrite deletes"):
        generate_world(tmp_path, 1, seed=0, resume=True, overwrite=True)
    with pytest.raises(ConfigError, match="--workers must be at least 1"):
        generate_world(tmp_path, 1, seed=0, workers=0)
    assert not list(tmp_path.iterdir())


def test_ctrl_c_exits_130_without_worker_tracebacks_and_resumes(tmp_path):
    out, config = tmp_path / "w", tmp_path / "config.json"
    config.write_text(json.dumps({"min_duration_s": 4, "max_duration_s": 5, "questions_per_video": 2}))
    command = [str(BIN / "vidagent"), "world", "generate", "--videos", "30", "--seed", "2", "--out", str(out),
               "--config", str(config), "--workers", "2", "--no-progress"]
    # its own process group, which gets the SIGINT, as a terminal's Ctrl-C reaches the whole foreground group
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(out.glob("world-*.json"))) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "videos are complete in" in stderr and "--resume" in stderr
    assert not (out / MANIFEST).exists() and (out / UNFINISHED).is_file()
    done = len(list(out.glob("world-*.json")))
    assert 2 <= done < 30

    assert main([*command[1:-3], "--workers", "1", "--no-progress"]) == 2  # no --resume: refused
    assert main([*command[1:-3], "--workers", "1", "--no-progress", "--resume", "--json"]) == 0
    assert len(load_world(out).truths) == 30


def test_cli_generate_and_stats_json(tmp_path, capsys):
    out = tmp_path / "w"
    assert main(["world", "generate", "--videos", "3", "--seed", "4", "--out", str(out), "--workers", "1",
                 "--questions-per-video", "3", "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    manifest = json.loads((out / MANIFEST).read_text())
    assert summary["directory"] == str(out) and summary["videos"] == 3 and summary["reused"] == 0
    assert summary["splits"] == manifest["splits"]
    assert summary["questions"] == len((out / QUESTIONS).read_text().splitlines())
    assert summary["frames"] > 0 and summary["bytes"] == sum(p.stat().st_size for p in out.glob("*.mp4"))
    assert summary["seconds"] > 0 and summary["generator_version"] == manifest["generator_version"]

    assert main(["world", "stats", str(out), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    for key in ("directory", "videos", "frames", "questions", "bytes", "splits"):
        assert stats[key] == summary[key], key
    assert stats["current_generator"] is True and stats["duration_s"] > 0
    assert sum(stats["counts"]["family"].values()) == stats["questions"]
    assert sum(stats["counts"]["split"].values()) == 3
    assert main(["world", "stats", str(out)]) == 0  # the tables come from the same numbers
    assert f"world {out}: 3 videos, {stats['frames']} frames" in capsys.readouterr().out
