"""SFT on TRL's SFTTrainer: the loss covers the planner's own tokens only, training moves the weights and
lowers the loss, and a killed run resumes from TRL's latest checkpoint."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from tiny_planner import smollm2_tokenizer, some_split, tiny_llama, tiny_world
from transformers import TrainerCallback
from trl import SFTTrainer
from vidagent.agent.planner_loading import local_chat_model
from vidagent.policies.config import SFTConfig
from vidagent.policies.environment import WorldData, make_toolbox
from vidagent.policies.models import with_lora
from vidagent.policies.sft import LOG_FILE, make_trainer, train_sft
from vidagent.policies.trajectories import oracle_trajectories

QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tiny_world(tmp_path_factory.mktemp("world"))
    tokenizer = smollm2_tokenizer()
    model = tiny_llama(tokenizer)
    world = WorldData.load(root)
    split = some_split(root)
    questions = world.questions(split, 4)
    trajectories, skipped = oracle_trajectories(questions, world.video_path, make_toolbox("world-truth", world),
                                                local_chat_model(model, tokenizer))
    assert not skipped and len(trajectories) == 4
    return root, split, tokenizer, trajectories


def sft_config(root, split, out, **overrides) -> SFTConfig:
    options = dict(world=str(root), split=split, questions=4, out=str(out), lora_r=4, lora_alpha=8,
                   learning_rate=1e-3, batch_size=2, save_steps=2, epochs=1)
    options.update(overrides)
    return SFTConfig(**options)


def planner_loss(model, trajectories) -> float:
    """Mean cross-entropy per planner token, by hand (not TRL's code)."""
    total, count = 0.0, 0
    with torch.no_grad():
        for t in trajectories:
            logits = model(input_ids=torch.tensor([t.ids])).logits[0, :-1].float()
            targets = torch.tensor(t.labels[1:])
            total += float(F.cross_entropy(logits, targets, ignore_index=-100, reduction="sum"))
            count += int((targets != -100).sum())
    return total / count


def test_trl_loss_mask_is_the_trajectory_model_mask(setup, tmp_path):
    root, split, tokenizer, trajectories = setup
    for t in trajectories:  # what the mask selects: the planner's calls and answers, no context
        text = tokenizer.decode([tok for tok in t.labels if tok != -100])
        assert "<tool_call>" in text and "<answer>" in text
        for context in ("<tool_response>", "Question:", "You answer questions", "<|im_start|>"):
            assert context not in text
        observation = tokenizer.decode([tok for tok, m in zip(t.completion_ids, t.model_mask) if not m])
        assert "<tool_response>" in observation
    model = with_lora(tiny_llama(tokenizer), 4, 8, 0.0)
    trainer = make_trainer(sft_config(root, split, tmp_path / "sft"), model, tokenizer, trajectories)
    # the rows TRL prepared (pre-tokenized: our ids, unchanged), collated by TRL's collator
    assert len(trainer.train_dataset) == len(trajectories)
    for row, t in zip(trainer.train_dataset, trajectories, strict=True):
        assert row["input_ids"] == t.ids
        batch = trainer.data_collator([{"input_ids": row["input_ids"], "labels": row["labels"]}])
        labels = batch["labels"][0]
        mask = torch.tensor([0] * len(t.prompt_ids) + t.model_mask)
        assert torch.equal(labels == -100, mask == 0)  # ignored exactly where the planner did not write
        assert torch.equal(labels[mask == 1], torch.tensor(t.ids)[mask == 1])
    # a batch from TRL's dataloader, and TRL's loss on it: the mean over exactly the model-mask tokens
    batch = next(iter(trainer.get_train_dataloader()))
    t = next(t for t in trajectories if t.ids == batch["input_ids"][0].tolist())
    assert batch["labels"][0].tolist() == t.labels
    trainer.model.train()
    with torch.no_grad():
        loss = trainer.compute_loss(trainer.model, dict(batch))  # targets-only scoring on a CPU (vidagent)
        trl_default = SFTTrainer.compute_loss(trainer, trainer.model, dict(batch))  # every position (TRL on CPU)
    expected = planner_loss(trainer.model, [t])
    assert abs(float(loss) - expected) < 1e-4 and abs(float(trl_default) - expected) < 1e-4


@pytest.mark.slow
def test_sft_on_four_trajectories_changes_the_weights_and_lowers_the_loss(setup, tmp_path):
    root, split, tokenizer, trajectories = setup
    model = tiny_llama(tokenizer)
    before_weights = {n: p.detach().clone() for n, p in model.named_parameters()}
    before = planner_loss(model, trajectories)
    config = sft_config(root, split, tmp_path / "sft", lora_r=0, learning_rate=1e-2, epochs=2,
                        batch_size=1, save_steps=3)
    result = train_sft(config, model=model, tokenizer=tokenizer, trajectories=trajectories, **QUIET)
    after = planner_loss(model, trajectories)
    assert result.steps == 8 and len(result.losses) == 8
    unchanged = [n for n, p in model.named_parameters() if torch.equal(p.detach(), before_weights[n])]
    assert not unchanged, unchanged
    assert after < 0.7 * before, (before, after)
    out = tmp_path / "sft"
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()  # a loadable full model
    assert (out / "sft_loss.png").is_file()
    records = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 9))
    assert [r["epoch"] for r in records] == [1, 1, 1, 1, 2, 2, 2, 2]
    assert all(r["tokens"] > 0 and r["loss"] > 0 for r in records)
    # TRL's checkpoints: every save_steps, and at the end
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-6", "checkpoint-8"]


class KillAfter(TrainerCallback):
    """Stands for a killed process: raises once ``step`` optimizer steps are done."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_sft_resume_continues_a_killed_run_from_the_latest_checkpoint(setup, tmp_path):
    root, split, tokenizer, trajectories = setup
    out = tmp_path / "sft"
    config = sft_config(root, split, out, batch_size=1)  # 4 steps of 1 trajectory, a checkpoint every 2
    with pytest.raises(KeyboardInterrupt):
        train_sft(config, model=tiny_llama(tokenizer), tokenizer=tokenizer, trajectories=trajectories,
                  callbacks=[KillAfter(3)], **QUIET)
    assert [p.name for p in out.glob("checkpoint-*")] == ["checkpoint-2"]  # step 3 was lost with the process
    lines: list[str] = []
    resumed = sft_config(root, split, out, batch_size=1, resume=True)
    model = tiny_llama(tokenizer)
    result = train_sft(resumed, model=model, tokenizer=tokenizer, trajectories=trajectories, log=lines.append)
    assert lines[0] == "SFT: loading TRL ..."  # something within a second, before the model loads
    assert any("resuming at step 2" in line for line in lines)
    assert [line.split()[1] for line in lines[1:] if line.startswith("step")] == ["3/4", "4/4"]
    assert result.steps == 4  # the same step count as a run that was never killed
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4
    assert [json.loads(line)["step"] for line in (out / LOG_FILE).read_text().splitlines()] == [1, 2, 3, 4]
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == "default"
    # and it ends where an uninterrupted run ends: same data order, optimizer state and RNG
    straight = tiny_llama(tokenizer)
    train_sft(sft_config(root, split, tmp_path / "straight", batch_size=1), model=straight, tokenizer=tokenizer,
              trajectories=trajectories, **QUIET)
    resumed_weights = {n: p for n, p in model.named_parameters() if "lora_" in n}
    straight_weights = dict(straight.named_parameters())
    assert resumed_weights
    for name, value in resumed_weights.items():
        assert torch.allclose(value, straight_weights[name], atol=1e-6), name


def test_sft_config_maps_to_trl_and_passes_trl_args_through(tmp_path):
    from vidagent.errors import ConfigError
    from vidagent.policies.sft import trl_config

    args = trl_config(SFTConfig(world="w", out=str(tmp_path), batch_size=4, epochs=3, learning_rate=1e-4,
                                save_steps=5, max_length=1500, seed=7))
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps) == (1, 4)
    assert (args.num_train_epochs, args.max_steps, args.learning_rate) == (3, -1, 1e-4)
    assert (args.save_strategy, args.save_steps, args.output_dir, args.seed) == ("steps", 5, str(tmp_path), 7)
    assert args.max_length == 1500 and not args.assistant_only_loss and not args.completion_only_loss
    extra = tmp_path / "trl.json"
    extra.write_text(json.dumps({"per_device_train_batch_size": 2, "save_total_limit": 1}))
    config = SFTConfig(world="w", out=str(tmp_path), batch_size=4, trl_args=str(extra))
    args = trl_config(config, **config.trl_overrides())
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps, args.save_total_limit) == (2, 2, 1)
    extra.write_text(json.dumps({"per_device_train_batch_size": 3}))
    with pytest.raises(ConfigError, match="must divide"):
        SFTConfig(world="w", out=str(tmp_path), batch_size=4, trl_args=str(extra)).trl_overrides()
    extra.write_text(json.dumps({"save_total_limt": 1}))
    config = SFTConfig(world="w", out=str(tmp_path), trl_args=str(extra))
    with pytest.raises(ConfigError, match=r"unknown trl.SFTConfig field: save_total_limt \(did you mean save_total_limit"):
        trl_config(config, **config.trl_overrides())
