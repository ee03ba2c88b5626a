"""The CLI: help, video info, tools list, and clear errors (exit 2, no traceback) for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vidagent", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_help_lists_commands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("video", "tools"):
        assert command in out.stdout


def test_video_info(tiny_video: Path):
    out = run("video", "info", str(tiny_video), "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert (info["width"], info["height"], info["frame_count"]) == (320, 240, 60)


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing.mp4", "video not found"),
    (lambda d: d, "is a directory"),
    (lambda d: (d / "t.mp4").write_text("hello") and d / "t.mp4", "not a video file"),
])
def test_bad_video_is_a_clear_error(tmp_path: Path, make, message: str):
    out = run("video", "info", str(make(tmp_path)))
    assert out.returncode == 2
    assert message in out.stderr and "fix:" in out.stderr and "Traceback" not in out.stderr


def test_tools_list_with_user_tool():
    out = run("tools", "list", "--tool", "examples.custom_tool:motion_energy")
    assert out.returncode == 0, out.stderr
    assert "motion_energy" in out.stdout and "- samples (int, default 16)" in out.stdout
    # the default profile is the real-footage one, and the listing says which models are on
    assert out.stdout.startswith("profile real: pretrained models") and "YOLO11n-pose" in out.stdout
    assert "read_text" in out.stdout and "tag_scene" in out.stdout
    world = run("tools", "list", "--tools", "world")
    assert world.stdout.startswith("profile world:") and "read_text" not in world.stdout


@pytest.mark.parametrize(("spec", "message"), [
    ("nocolon", "not of the form module:attr"),
    ("no_such_module_xyz:fn", "cannot import"),
    ("examples.custom_tool:nothing", "has no attribute"),
    ("examples.custom_tool:MotionResult", "first parameter must be `video"),
])
def test_bad_tool_spec(spec: str, message: str):
    out = run("tools", "list", "--tool", spec)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_example_tool_script_runs(tiny_video: Path):
    out = subprocess.run([sys.executable, "examples/custom_tool.py", str(tiny_video)], capture_output=True,
                         text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Motion in 0.0-6.0s")


# --- vidagent train sft|grpo: flags from the config dataclasses through transformers' HfArgumentParser ---


def train_config(*argv: str):
    from vidagent.cli import build_parser
    from vidagent.policies.config import GRPOConfig, SFTConfig, config_from_args

    args = build_parser().parse_args(["train", *argv])
    return config_from_args({"sft": SFTConfig, "grpo": GRPOConfig}[args.train_command], args)


def test_train_help_lists_every_config_field():
    from dataclasses import fields

    from vidagent.policies.config import GRPOConfig, SFTConfig

    for stage, cls in (("sft", SFTConfig), ("grpo", GRPOConfig)):
        out = run("train", stage, "--help")
        assert out.returncode == 0, out.stderr
        for f in fields(cls):
            assert "--" + f.name.replace("_", "-") in out.stdout, f.name
        text = " ".join(out.stdout.split())
        assert "tool-call budget per question" in text and "(default: 4)" in text  # help and default
        assert "--world WORLD" in out.stdout and "--tool SPEC [SPEC ...]" in out.stdout


def test_train_flags_parse_into_the_config(tmp_path: Path):
    from vidagent.policies.config import GRPOConfig, SFTConfig

    assert train_config("sft", "--world", "w") == SFTConfig(world="w")  # the dataclass defaults
    assert train_config("grpo", "--world", "w") == GRPOConfig(world="w")
    trl = tmp_path / "trl.json"
    trl.write_text('{"bf16": true}')
    config = train_config("grpo", "--world", "w", "--questions", "8", "--group-size", "3", "--lora_r", "2",
                          "--tool", "a:f", "b:g", "--tool", "c:h", "--resume", "--trl-args", str(trl),
                          "--tools", "world", "--learning-rate", "1e-3")
    assert (config.questions, config.group_size, config.lora_r, config.learning_rate) == (8, 3, 2, 1e-3)
    assert config.tool == ["a:f", "b:g", "c:h"] and config.resume and config.tools == "world"
    assert config.trl_overrides() == {"bf16": True}
    assert train_config("sft", "--world", "w", "--resume", "false").resume is False
    assert train_config("sft", "--world", "w").tool == []  # the default list is not shared across parses


def test_train_bad_flags_are_clean_errors(tmp_path: Path, capsys):
    from vidagent.cli import main

    assert main(["train", "grpo", "--world", str(tmp_path), "--group-size", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: group_size must be >= 2") and "fix: pass --group-size 4" in err
    assert main(["train", "sft", "--world", str(tmp_path), "--trl-args", "nope.json"]) == 2
    assert "--trl-args nope.json does not exist" in capsys.readouterr().err
    for argv in (["train", "sft"], ["train", "grpo", "--world", "w", "--steps", "many"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "the following arguments are required: --world" in err and "invalid int value: 'many'" in err


def test_top_level_help_does_not_import_transformers():
    code = ("import sys; from vidagent.cli import build_parser; build_parser().format_help(); "
            "print('transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                         check=False)
    assert out.stdout.strip() == "False", out.stderr
