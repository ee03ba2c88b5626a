"""GRPO on TRL's ``GRPOTrainer``, with rollouts through the planner graph.

    vidagent train grpo --world data/world --planner runs/sft --steps 20 --out runs/grpo

The four steps of GRPO and who does them:

1. rollout: ``GraphRollout`` (``vidagent.policies.rollout``) runs the LangGraph planner graph for each
   question ``group_size`` times with the trainer's current model, and returns ids, logprobs, ``env_mask``;
2. score: the reward functions of ``vidagent.policies.rewards`` (accuracy, format, answer-gated length,
   gated efficiency), one TRL reward function each, so TRL logs each part;
3. normalise per group: TRL (``scale_rewards``), plus optional Gaussian advantage noise (this module);
4. update: TRL's loss (``loss_type`` dapo / dr_grpo / grpo, clip-higher ``epsilon_high``, KL ``beta``),
   masked by ``env_mask``: tool observations never count as the model's tokens.

Simplifications: one generation per optimizer step (``steps_per_generation`` = gradient accumulation
steps, ``num_iterations=1``), so the old policy is the current one and the PPO ratio starts at 1; no
reference model unless ``beta > 0``.
Multi-GPU runs use the same code through ``accelerate launch`` (configs/ at the repository root).

Output: ``OUT/`` the planner (LoRA adapter), ``OUT/checkpoint-N/`` TRL checkpoints (``--resume``),
``OUT/grpo_log.jsonl`` one record per step and ``OUT/grpo_curves.png``.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from vidagent.policies.config import GRPOConfig, check_trl_fields

LOG_FILE = "grpo_log.jsonl"
CURVES = [("reward", "reward (sum of parts)"), ("accuracy", "accuracy reward"),
          ("zero_variance_share", "share of zero-variance groups"),
          ("completion_length", "model tokens per rollout"), ("tool_calls", "tool calls per rollout"),
          ("answered", "share answered")]


def question_dataset(questions: list[Any]) -> Any:
    """TRL dataset: ``prompt`` is the question id (the rollout renders the real prompt through the graph);
    ``question`` is the ``Question`` as JSON, forwarded to the reward functions."""
    from datasets import Dataset  # noqa: PLC0415

    return Dataset.from_list([{"prompt": q.id, "question": q.model_dump_json()} for q in questions])


def trl_config(config: GRPOConfig, **overrides: Any) -> Any:
    """The ``trl.GRPOConfig`` for a vidagent config (one place maps our names to TRL's)."""
    from trl import GRPOConfig as TRLConfig  # noqa: PLC0415

    accumulation = config.batch_rollouts // config.micro_batch
    options = dict(
        output_dir=config.out, max_steps=config.steps, learning_rate=config.learning_rate,
        # one generation of all the step's rollouts, then gradient accumulation in micro-batches
        per_device_train_batch_size=config.micro_batch, gradient_accumulation_steps=accumulation,
        num_generations=config.group_size, steps_per_generation=accumulation, num_iterations=1,
        loss_type=config.loss_type, beta=config.beta, epsilon=config.epsilon, epsilon_high=config.epsilon_high,
        scale_rewards=config.scale_rewards, temperature=config.temperature,
        max_completion_length=config.max_new_tokens * (config.max_tool_calls + 3) + 1024,
        max_grad_norm=config.max_grad_norm, lr_scheduler_type="constant", warmup_steps=0,
        save_strategy="steps", save_steps=config.save_steps, save_only_model=False, logging_steps=1,
        report_to=[], seed=config.seed, use_cpu=_use_cpu(), bf16=False, fp16=False,
        gradient_checkpointing=False, remove_unused_columns=False, dataloader_num_workers=0,
        disable_tqdm=True,
    )
    # an unknown key (a typo in --trl-args) is a ConfigError with the closest field names, not TRL's TypeError
    check_trl_fields(overrides, TRLConfig, source=f"--trl-args {config.trl_args}" if config.trl_args
                     else "trl overrides")
    options.update(overrides)
    return TRLConfig(**options)


def _use_cpu() -> bool:
    import torch  # noqa: PLC0415

    return not torch.cuda.is_available()


def make_trainer(config: GRPOConfig, model: Any, tokenizer: Any, questions: list[Any], video_path: Any,
                 toolbox: Any, **trl_overrides: Any) -> Any:
    """A ``VidagentGRPOTrainer`` for ``model`` (a PeftModel for LoRA, or a plain model for full training)."""
    from vidagent.policies.rewards import DEFAULT_REWARDS  # noqa: PLC0415
    from vidagent.policies.rollout import GraphRollout  # noqa: PLC0415

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is marked experimental in TRL 1.16
    trainer_class = vidagent_trainer_class()
    rollout = GraphRollout(questions, video_path, toolbox, tokenizer, max_tool_calls=config.max_tool_calls,
                           max_new_tokens=config.max_new_tokens, temperature=config.temperature)
    trainer = trainer_class(
        model=model, reward_funcs=list(DEFAULT_REWARDS), args=trl_config(config, **trl_overrides),
        train_dataset=question_dataset(questions), processing_class=tokenizer, rollout_func=rollout,
    )
    trainer.advantage_noise = config.advantage_noise
    trainer.add_callback(jsonl_callback(Path(config.out) / LOG_FILE))
    return trainer


@functools.cache  # built once, lazily: importing trl is slow and the CLI must start fast
def vidagent_trainer_class() -> Any:
    """``GRPOTrainer`` plus Gaussian advantage noise and episode metrics (tool calls, answered share)."""
    import torch  # noqa: PLC0415
    from trl import GRPOTrainer  # noqa: PLC0415

    class VidagentGRPOTrainer(GRPOTrainer):
        advantage_noise: float = 0.0

        def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
            output = super()._generate_and_score_completions(inputs)
            mode = "train" if self.model.training else "eval"
            if self.advantage_noise > 0 and mode == "train":
                # TinyLLaVA-Video-R1: N(0, sigma^2) noise so that groups with equal rewards still update
                noise = torch.randn_like(output["advantages"]) * self.advantage_noise  # [B]
                output["advantages"] = output["advantages"] + noise
            episodes = [t.episode for t in self.rollout_func.last_trajectories]
            if episodes:
                metrics = self._metrics[mode]
                metrics["episode/tool_calls"].append(sum(e["tool_calls"] for e in episodes) / len(episodes))
                metrics["episode/invalid_calls"].append(sum(e["invalid_calls"] for e in episodes) / len(episodes))
                metrics["episode/answered"].append(sum(bool(e["answered"]) for e in episodes) / len(episodes))
                metrics["episode/frames"].append(sum(e["frames"] for e in episodes) / len(episodes))
            return output

    return VidagentGRPOTrainer


def jsonl_callback(path: Path) -> Any:
    """Write one JSON line per logged step with short names (the curves read them)."""
    from transformers import TrainerCallback  # noqa: PLC0415

    names = {"reward": "reward", "rewards/accuracy_reward/mean": "accuracy",
             "rewards/format_reward/mean": "format", "rewards/length_reward/mean": "length",
             "rewards/efficiency_reward/mean": "efficiency", "frac_reward_zero_std": "zero_variance_share",
             "completions/mean_length": "completion_length", "episode/tool_calls": "tool_calls",
             "episode/invalid_calls": "invalid_calls", "episode/answered": "answered", "episode/frames": "frames",
             "loss": "loss", "grad_norm": "grad_norm", "kl": "kl", "entropy": "entropy",
             "clip_ratio/region_mean": "clip_ratio", "step_time": "step_seconds"}

    class JsonlLog(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any) -> None:
            if not logs or "loss" not in logs or not state.is_world_process_zero:
                return
            record = {"step": state.global_step}
            record.update({short: logs[long] for long, short in names.items() if long in logs})
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    return JsonlLog()


def latest_trl_checkpoint(out: str | Path) -> str | None:
    found = [p for p in Path(out).glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
    best = max(found, key=lambda p: int(p.name.split("-")[1]), default=None)
    return str(best) if best is not None else None


def train_grpo(config: GRPOConfig, *, model: Any = None, tokenizer: Any = None, base_name: str = "default",
               questions: list[Any] | None = None, video_path: Any = None, toolbox: Any = None,
               **trl_overrides: Any) -> Path:
    """Run GRPO (resuming from the latest ``OUT/checkpoint-N`` with ``config.resume``); return the planner
    directory. Arguments other than ``config`` are for tests and notebooks."""
    from vidagent.offline import prepare_training_env  # noqa: PLC0415
    from vidagent.policies.environment import WorldData, make_toolbox  # noqa: PLC0415
    from vidagent.policies.models import save_planner, trainable_model, with_lora  # noqa: PLC0415
    from vidagent.tools.toolbox import load_tool_specs  # noqa: PLC0415

    prepare_training_env()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    config.write(out / "grpo_config.json")
    if model is None:
        model, tokenizer, base_name = trainable_model(config.planner, config.lora_r, config.lora_alpha,
                                                      config.lora_dropout)
    else:
        model = with_lora(model, config.lora_r, config.lora_alpha, config.lora_dropout)
    if questions is None:
        world = WorldData.load(config.world)
        questions = world.questions(config.split, config.questions, seed=config.seed)
        video_path, toolbox = world.video_path, make_toolbox(config.tools, world, load_tool_specs(config.tool))
    trainer = make_trainer(config, model, tokenizer, questions, video_path, toolbox,
                           **{**config.trl_overrides(), **trl_overrides})
    checkpoint = latest_trl_checkpoint(out) if config.resume else None
    if not config.resume and (out / LOG_FILE).exists():
        (out / LOG_FILE).unlink()  # a fresh run starts a fresh log
    trainer.train(resume_from_checkpoint=checkpoint)
    save_planner(trainer.model, tokenizer, out, base_name)
    plot_grpo(out)
    return out


def plot_grpo(out: str | Path) -> Path | None:
    from vidagent.policies.plots import plot_curves  # noqa: PLC0415

    return plot_curves(Path(out) / LOG_FILE, Path(out) / "grpo_curves.png", CURVES, title="GRPO (vidagent)")
