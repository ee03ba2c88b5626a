"""How training fails and where it writes: a world too small is a ConfigError that says how big a world to
generate; every training command writes under runs/ by default (never over the committed tools/weights/);
an unknown --trl-args field is a ConfigError naming it; a run that fails before its first checkpoint removes
the folder it made, one with checkpoints keeps them; GRPO prints one readable line per step."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from tiny_planner import some_split
from transformers import TrainerControl, TrainerState, TrainingArguments

from vidagent.cli import build_parser, main
from vidagent.errors import ConfigError
from vidagent.policies.config import GRPOConfig, SFTConfig
from vidagent.policies.training_run import card_base_model, card_names_base, run_directory

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = (REPO / "tools" / "weights").resolve()


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vidagent.tasks.world.config import WorldConfig
    from vidagent.tasks.world.generate import generate_world

    root = tmp_path_factory.mktemp("world")
    generate_world(root, 3, seed=5, config=WorldConfig(min_duration_s=3, max_duration_s=3, questions_per_video=2),
                   workers=1, progress=False)
    return root


# --- a world too small --------------------------------------------------------------------------------


def _train_args(command: str, *flags: str) -> argparse.Namespace:
    args = build_parser().parse_args(["train", command, *flags])
    args.argv = list(flags)
    return args


def test_train_action_on_a_too_small_world_says_how_big_a_world_to_generate(small_world):
    from vidagent.tasks.toolfit import train_action

    with pytest.raises(ConfigError) as caught:  # was: ValueError: need at least one array to stack
        train_action.train(_train_args("action", "--train", str(small_world)))
    assert "--val-videos 40" in caught.value.problem and "train videos" in caught.value.problem
    assert "vidagent world generate --videos 100" in caught.value.fix
    with pytest.raises(ConfigError, match="no action clips in 0 videos") as caught:
        train_action.build_clips([], every=3, cap_per_class=10, seed=0, jitter_amount=0.0)
    assert "vidagent world generate" in caught.value.fix


def test_train_clip_without_captioned_frames_is_a_config_error():
    from vidagent.tasks.toolfit import train_clip

    with pytest.raises(ConfigError, match="no captioned frames") as caught:
        train_clip.build([], every=4)
    assert "vidagent world generate --videos" in caught.value.fix


def test_train_detector_on_a_too_small_world_says_how_big_a_world_to_generate(small_world, tmp_path):
    from vidagent.tasks.toolfit.train_detector import build_dataset

    with pytest.raises(ConfigError, match="--val-videos 40") as caught:
        build_dataset([small_world], None, tmp_path / "yolo", frames_per_video=1, val_videos=40)
    assert "vidagent world generate --videos 100" in caught.value.fix


# --- where training writes by default --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["detector", "action", "clip"])
def test_tool_training_writes_under_runs_by_default(command):
    out = Path(_train_args(command).out)
    assert out.parts[0] == "runs", out
    assert WEIGHTS not in (REPO / out).resolve().parents


def test_tool_training_still_writes_the_shipped_weights_when_told():
    out = _train_args("action", "--out", "tools/weights/action.safetensors").out
    assert (REPO / out).resolve().parent == WEIGHTS


@pytest.mark.parametrize(("cls", "expected"), [(SFTConfig, "runs/sft"), (GRPOConfig, "runs/grpo")])
def test_planner_training_writes_under_runs_by_default(cls, expected):
    assert cls(world="w").out == expected
    flags = build_parser().parse_args(["train", cls.__name__[:-6].lower(), "--world", "w"])
    assert flags.out == expected


def test_runs_is_git_ignored():
    lines = (REPO / ".gitignore").read_text().splitlines()
    assert {"runs/", "/runs/"} & set(lines)


# --- --trl-args -----------------------------------------------------------------------------------------


def test_an_unknown_trl_args_field_stops_the_cli_before_any_loading(small_world, tmp_path, capsys):
    trl = tmp_path / "trl.json"
    trl.write_text(json.dumps({"learning_rat": 1e-5}))
    out = tmp_path / "grpo"
    code = main(["train", "grpo", "--world", str(small_world), "--split", some_split(small_world), "--trl-args", str(trl),
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: --trl-args" in err and "unknown trl.GRPOConfig field: learning_rat (did you mean learning_rate" in err
    assert "  fix: " in err and "Traceback" not in err
    assert not out.exists()  # nothing was created for a run that never started


def test_a_value_trl_rejects_is_a_config_error(tmp_path):
    from vidagent.policies.grpo import trl_config

    with pytest.raises(ConfigError, match="trl.GRPOConfig rejected the settings"):
        trl_config(GRPOConfig(world="w", out=str(tmp_path)), num_generations=3)  # must divide the batch


def test_the_deprecated_gradient_checkpointing_name_in_trl_args_still_takes_effect(tmp_path):
    from vidagent.policies.grpo import trl_config

    config = GRPOConfig(world="w", out=str(tmp_path))
    assert trl_config(config).activation_checkpointing is False  # off by default (slower on a CPU)
    assert trl_config(config, gradient_checkpointing=True).activation_checkpointing is True  # configs/grpo_gpu.json


# --- failed runs ------------------------------------------------------------------------------------------


def test_a_run_failing_before_its_first_checkpoint_removes_the_folder_it_made(tmp_path):
    out, notes = tmp_path / "runs" / "sft", []
    with pytest.raises(ConfigError), run_directory(out, "train sft", note=notes.append):
        (out / "sft_config.json").write_text("{}")
        raise ConfigError("no SFT trajectories", "use a bigger world")
    assert not out.exists() and (tmp_path / "runs").is_dir()
    assert notes == [f"train sft failed before its first checkpoint; removed {out}"]


def test_an_interrupted_run_keeps_its_checkpoints_and_says_how_to_resume(tmp_path):
    out, notes = tmp_path / "grpo", []
    with pytest.raises(KeyboardInterrupt), run_directory(out, "train grpo", note=notes.append):
        (out / "checkpoint-2").mkdir()
        (out / "checkpoint-2" / "trainer_state.json").write_text("{}")
        raise KeyboardInterrupt
    assert (out / "checkpoint-2" / "trainer_state.json").is_file()
    assert "interrupted" in notes[0] and "checkpoint-2" in notes[0] and "--resume" in notes[0]


def test_a_failed_run_leaves_a_folder_that_held_something_alone(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(RuntimeError), run_directory(out, "train sft", note=lambda _: None):
        raise RuntimeError("boom")
    assert (out / "notes.txt").read_text() == "keep me"


def test_train_sft_without_trajectories_removes_its_out_dir(tmp_path):
    from vidagent.policies.sft import train_sft

    class TinyTokenizer:
        pad_token_id = 0

    out = tmp_path / "sft"
    config = SFTConfig(world="w", out=str(out), lora_r=0)
    with pytest.raises(ConfigError, match="no SFT trajectories"):
        train_sft(config, model=object(), tokenizer=TinyTokenizer(), trajectories=[], log=lambda _: None)
    assert not out.exists()


# --- the model card ------------------------------------------------------------------------------------


def test_the_model_card_names_the_base_model():
    from vidagent.agent.planner_loading import DEFAULT_HF_ID

    assert card_base_model("default") == DEFAULT_HF_ID == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert card_base_model("/models/Qwen2.5-1.5B-Instruct") == "Qwen2.5-1.5B-Instruct"

    class Model:
        class config:  # noqa: N801  (a stand-in for a PretrainedConfig)
            _name_or_path = "/home/me/.cache/vidagent/smollm2"

    with card_names_base(Model, DEFAULT_HF_ID):
        assert Model.config._name_or_path == DEFAULT_HF_ID
    assert Model.config._name_or_path == "/home/me/.cache/vidagent/smollm2"


# --- GRPO progress -------------------------------------------------------------------------------------


def test_the_grpo_progress_callback_prints_one_readable_line_per_step(tmp_path):
    from vidagent.policies.grpo import progress_callback

    lines: list[str] = []
    callback = progress_callback(tmp_path / "grpo_log.jsonl", lines.append, micro_batch=2, heartbeat_s=60)
    args = TrainingArguments(output_dir=str(tmp_path), gradient_accumulation_steps=2, report_to=[], use_cpu=True)
    state, control = TrainerState(max_steps=20, global_step=0), TrainerControl()
    callback.on_step_begin(args, state, control)
    callback.rollouts_done(0, 4)
    for done in range(1, 5):
        callback.rollouts_done(done, 4)
    callback.on_substep_end(args, state, control)
    state.global_step = 1
    logs = {"loss": 0.01234, "grad_norm": 0.5, "reward": 0.4125, "rewards/accuracy_reward/mean": 0.25,
            "frac_reward_zero_std": 0.5, "completions/mean_length": 461.5, "step_time": 280.2}
    callback.on_log(args, state, control, logs=logs)
    callback.on_log(args, state, control, logs={"train_runtime": 618.0})  # the end-of-training summary: no line
    assert lines[0] == "step 1/20: rollouts through the planner graph ..."
    assert [line.split(" (")[0] for line in lines[1:5]] == [f"  rollouts {k}/4 done" for k in range(1, 5)]
    assert " GB); update in 2 micro-batches of 2" in lines[4] and "peak RSS" in lines[4]
    assert lines[5].startswith("  update 1/2 micro-batches (")
    step = lines[6]
    assert step.startswith("step 1/20: reward 0.412, accuracy 0.25, zero-variance groups 50%, loss 0.0123, ")
    assert " s, peak RSS " in step and step.endswith(" GB") and "{" not in step
    assert len(lines) == 7
    (record,) = [json.loads(line) for line in (tmp_path / "grpo_log.jsonl").read_text().splitlines()]
    assert record["step"] == 1 and record["accuracy"] == 0.25 and record["zero_variance_share"] == 0.5
