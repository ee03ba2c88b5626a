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
``OUT/grpo_log.jsonl`` one record per step and ``OUT/grpo_curves.png``; TRL's model card ``OUT/README.md``.
A run that fails or is interrupted before its first checkpoint removes the ``OUT`` it created.

Progress (``log``, stdout): what is loading, then per step the rollouts done as they finish and one line
when the step ends (``format_step``: reward, accuracy, share of zero-variance groups, loss, seconds, peak
memory). TRL's own printing of its log dicts is switched off (``PrinterCallback`` removed, no tqdm).
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidagent.policies.config import GRPOConfig, build_trl_config
from vidagent.policies.training_run import (
    card_base_model,
    card_names_base,
    latest_trl_checkpoint,
    peak_memory,
    run_directory,
)

LOG_FILE = "grpo_log.jsonl"
CURVES = [("reward", "reward (sum of parts)"), ("accuracy", "accuracy reward"),
          ("zero_variance_share", "share of zero-variance groups"),
          ("completion_length", "model tokens per rollout"), ("tool_calls", "tool calls per rollout"),
          ("answered", "share answered"), ("dropped_share", "share of rollouts dropped (zero variance)")]


def mixed_questions(config: GRPOConfig, world: Any, toolbox: Any) -> tuple[list[Any], dict[str, Any]]:
    """The run's questions and each one's toolbox: ``config.questions`` of the world's split and
    ``config.novel_per_tool`` per train novel tool, mixed as for SFT (``episodes.rollout_mix``)."""
    from vidagent.policies.episodes import rollout_mix, training_questions  # noqa: PLC0415

    drawn = training_questions(world, config.split, config.questions, novel_per_tool=config.novel_per_tool,
                               open_per_family=config.open_per_family, seed=config.seed)
    return rollout_mix(drawn.questions, toolbox, config.mix(), seed=config.seed, novel=drawn.novel,
                       novel_tools=drawn.novel_tools)


def family_round_robin(questions: list[Any], seed: int = 0) -> list[Any]:
    """``questions`` reordered so that consecutive questions come from different families: each family's
    questions in a seeded order, then one from each family in turn (families in a seeded order), until all
    are placed. With TRL's sampler unshuffled, a step's ``questions_per_step`` questions then span as many
    families as there are, and every family recurs every few steps."""
    import random  # noqa: PLC0415

    rng = random.Random(seed)
    by_family: dict[str, list[Any]] = {}
    for question in questions:
        by_family.setdefault(question.family, []).append(question)
    queues = [by_family[family] for family in sorted(by_family)]
    rng.shuffle(queues)
    for queue in queues:
        rng.shuffle(queue)
    ordered: list[Any] = []
    while any(queues):
        ordered += [queue.pop() for queue in queues if queue]
    return ordered


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
        # off, unlike TRL's default: on a CPU, recomputing every layer in the backward pass doubled the update
        # time (4 rollouts of 1.4k tokens, SmolLM2-135M + LoRA: 26 -> 50 s) to save 1.6 GB of 4.7 (docs/training.md)
        activation_checkpointing=False, remove_unused_columns=False, dataloader_num_workers=0,
        disable_tqdm=True,  # no tqdm bar; the PrinterCallback it brings instead is removed in make_trainer
        shuffle_dataset=not config.balance_families,  # balanced: the dataset's round-robin order is the order
    )
    return build_trl_config(TRLConfig, options, overrides, trl_args=config.trl_args, command="grpo")


def _use_cpu() -> bool:
    import torch  # noqa: PLC0415

    return not torch.cuda.is_available()


def make_trainer(config: GRPOConfig, model: Any, tokenizer: Any, questions: list[Any], video_path: Any,
                 toolbox: Any, *, log: Callable[[str], Any] = print, base_name: str | None = None,
                 toolboxes: dict[str, Any] | None = None, **trl_overrides: Any) -> Any:
    """A ``VidagentGRPOTrainer`` for ``model`` (a PeftModel for LoRA, or a plain model for full training),
    printing its progress to ``log``; ``base_name`` is the base model its model card names; ``toolboxes``:
    a question's own toolbox by id (else ``toolbox``)."""
    from transformers import PrinterCallback  # noqa: PLC0415
    from vidagent.policies.rewards import DEFAULT_REWARDS  # noqa: PLC0415
    from vidagent.policies.rollout import GraphRollout  # noqa: PLC0415

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is marked experimental in TRL 1.16
    trainer_class = vidagent_trainer_class()
    if config.balance_families:
        questions = family_round_robin(questions, config.seed)
    rollout = GraphRollout(questions, video_path, toolbox, tokenizer, max_tool_calls=config.max_tool_calls,
                           max_new_tokens=config.max_new_tokens, temperature=config.temperature,
                           toolboxes=toolboxes)
    trainer = trainer_class(
        model=model, reward_funcs=list(DEFAULT_REWARDS), args=trl_config(config, **trl_overrides),
        train_dataset=question_dataset(questions), processing_class=tokenizer, rollout_func=rollout,
    )
    trainer.advantage_noise = config.advantage_noise
    trainer.drop_zero_variance = config.zero_variance == "drop"
    trainer.card_base_model = card_base_model(base_name) if base_name is not None else None
    trainer.remove_callback(PrinterCallback)  # our step line replaces its raw dict print
    progress = progress_callback(Path(config.out) / LOG_FILE, log, micro_batch=config.micro_batch)
    rollout.progress = progress.rollouts_done
    trainer.add_callback(progress)
    return trainer


@functools.cache  # built once, lazily: importing trl is slow and the CLI must start fast
def vidagent_trainer_class() -> Any:
    """``GRPOTrainer`` plus Gaussian advantage noise and episode metrics (tool calls, answered share)."""
    import torch  # noqa: PLC0415
    from trl import GRPOTrainer  # noqa: PLC0415
    from vidagent.policies.sft import _score_targets_only_on_cpu  # noqa: PLC0415

    class VidagentGRPOTrainer(GRPOTrainer):
        advantage_noise: float = 0.0
        drop_zero_variance: bool = False
        card_base_model: str | None = None  # the base model TRL's model card names (see card_names_base)

        def create_model_card(self, *args: Any, **kwargs: Any) -> None:
            with card_names_base(self.model, self.card_base_model):
                super().create_model_card(*args, **kwargs)

        def _get_per_token_logps_and_entropies(self, *args: Any, **kwargs: Any) -> Any:
            # the completion positions only through the LM head on a CPU too, as TRL does on GPUs: the prompt
            # is ~2/3 of each sequence, and scoring every position makes [tokens x 32768] float temporaries
            with _score_targets_only_on_cpu():
                return super()._get_per_token_logps_and_entropies(*args, **kwargs)

        def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
            with warnings.catch_warnings():
                # TRL 1.16 calls the deprecated `gradient_checkpointing_*` names here; transformers warns each step
                warnings.filterwarnings("ignore", message=r"`\w*gradient_checkpointing\w*` is deprecated",
                                        category=FutureWarning)
                output = super()._generate_and_score_completions(inputs)
            mode = "train" if self.model.training else "eval"
            kept = torch.ones_like(output["advantages"], dtype=torch.bool)  # [B]
            if self.drop_zero_variance and mode == "train":
                kept = drop_zero_variance_groups(output, self.num_generations, self.accelerator.gather)
                self._metrics[mode]["dropped_groups"].append(1.0 - kept.float().mean().item())
            if self.advantage_noise > 0 and mode == "train":
                # TinyLLaVA-Video-R1: N(0, sigma^2) noise so that groups with equal rewards still update
                noise = torch.randn_like(output["advantages"]) * self.advantage_noise  # [B]
                output["advantages"] = output["advantages"] + noise * kept
            trajectories = self.rollout_func.last_trajectories
            episodes = [t.episode for t in trajectories]
            if mode == "train" and len(trajectories) == len(inputs):
                record_family_accuracy(self._metrics[mode], [x["question"] for x in inputs],
                                       [t.answer for t in trajectories])
            if episodes:
                metrics = self._metrics[mode]
                metrics["episode/tool_calls"].append(sum(e["tool_calls"] for e in episodes) / len(episodes))
                metrics["episode/invalid_calls"].append(sum(e["invalid_calls"] for e in episodes) / len(episodes))
                metrics["episode/answered"].append(sum(bool(e["answered"]) for e in episodes) / len(episodes))
                metrics["episode/frames"].append(sum(e["frames"] for e in episodes) / len(episodes))
            return output

    return VidagentGRPOTrainer


def record_family_accuracy(metrics: dict[str, list[float]], questions: list[Any], answers: list[Any]) -> None:
    """Append each family's accuracy among the step's rollouts to ``metrics["family/<name>"]`` (TRL averages
    and logs them; ``grpo_log.jsonl`` keeps them as ``acc/<name>``; ``grpo_families.png`` plots them)."""
    from vidagent.policies.rewards import accuracy, as_question  # noqa: PLC0415

    scores: dict[str, list[float]] = {}
    for question, answer in zip(questions, answers, strict=True):
        q = as_question(question)
        scores.setdefault(q.family, []).append(accuracy(q, answer)[0])
    for family, values in scores.items():
        metrics[f"family/{family}"].append(sum(values) / len(values))


def drop_zero_variance_groups(output: dict[str, Any], group_size: int, gather: Callable[[Any], Any] = lambda x: x
                              ) -> Any:
    """Take the groups whose advantages are all zero (every rollout scored the same; TRL subtracts the group
    mean, so they are exactly zero) out of the loss: their loss-mask rows become 0 and ``num_items_in_batch``
    (the dapo token-mean's denominator; ``gather``: the accelerator's, across processes) is recounted, so
    they neither move the policy nor dilute the others. Returns the kept rows, ``[B]`` bool."""
    advantages = output["advantages"]
    groups = advantages.view(-1, group_size)
    kept = (groups.abs() > 1e-6).any(dim=1).repeat_interleave(group_size)
    key = "tool_mask" if output.get("tool_mask") is not None else "completion_mask"
    output[key] = output[key] * kept.unsqueeze(1).to(output[key].dtype)
    if "num_items_in_batch" in output:
        mask = output["completion_mask"] if key == "completion_mask" else output["completion_mask"] * output[key]
        output["num_items_in_batch"] = gather(mask.sum()).sum()  # over processes, as TRL counts it
    return kept


# TRL's log keys -> the short names of OUT/grpo_log.jsonl (the curves read them)
LOG_NAMES = {"reward": "reward", "rewards/accuracy_reward/mean": "accuracy",
             "rewards/format_reward/mean": "format", "rewards/length_reward/mean": "length",
             "rewards/efficiency_reward/mean": "efficiency", "frac_reward_zero_std": "zero_variance_share",
             "dropped_groups": "dropped_share",
             "completions/mean_length": "completion_length", "episode/tool_calls": "tool_calls",
             "episode/invalid_calls": "invalid_calls", "episode/answered": "answered", "episode/frames": "frames",
             "loss": "loss", "grad_norm": "grad_norm", "kl": "kl", "entropy": "entropy",
             "clip_ratio/region_mean": "clip_ratio", "step_time": "step_seconds"}


def format_step(step: int, total: int, logs: dict[str, Any], seconds: float, memory: str) -> str:
    """The one progress line of a finished GRPO step, from TRL's log dict of that step."""

    def number(key: str, spec: str) -> str:
        value = logs.get(key)
        return "-" if value is None else format(float(value), spec)

    zero = logs.get("frac_reward_zero_std")
    return (f"step {step}/{total}: reward {number('reward', '.3f')}, "
            f"accuracy {number('rewards/accuracy_reward/mean', '.2f')}, "
            f"zero-variance groups {'-' if zero is None else f'{float(zero):.0%}'}, "
            f"loss {number('loss', '.4f')}, {seconds:.0f} s, {memory}")


HEARTBEAT_S = 30.0  # while a step's rollouts run (they finish together, batched), a line this often


def progress_callback(path: Path, log: Callable[[str], Any] = print, *, micro_batch: int = 1,
                      heartbeat_s: float = HEARTBEAT_S) -> Any:
    """A ``TrainerCallback`` that writes one JSON line per optimizer step to ``path`` and talks on ``log``: the
    step starting; while its rollouts run, how many are done every ``heartbeat_s`` and as they finish
    (``rollouts_done``, GraphRollout's progress hook); the update's micro-batches at every quarter; and
    ``format_step``'s line when the step ends. Built lazily: importing transformers is slow."""
    from transformers import TrainerCallback  # noqa: PLC0415

    class GRPOProgress(TrainerCallback):
        def __init__(self) -> None:
            self._began = time.perf_counter()
            self._step, self._micro, self._micro_total = 0, 0, 1
            self._rollouts = (0, 0)  # (done, total) of the batch being generated
            self._batch_done = threading.Event()  # the heartbeat thread prints until it is set

        def seconds(self) -> float:
            return time.perf_counter() - self._began

        def on_step_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self._began = time.perf_counter()
            self._step, self._micro = state.global_step + 1, 0
            self._micro_total = args.gradient_accumulation_steps
            if state.is_world_process_zero:
                log(f"step {self._step}/{state.max_steps}: rollouts through the planner graph ...")

        def rollouts_done(self, done: int, total: int) -> None:
            """GraphRollout's hook: (0, total) when a batch starts, then after each finished rollout; a line
            at every quarter and at the last (the heartbeat covers the wait)."""
            self._rollouts = (done, total)
            if done == 0:
                self._batch_done.clear()
                threading.Thread(target=self._heartbeat, daemon=True, name="vidagent-grpo-heartbeat").start()
                return
            if done == total:
                self._batch_done.set()
            elif done % max(1, total // 4):
                return
            if done == total:
                log(f"  rollouts {done}/{total} done ({self.seconds():.0f} s, {peak_memory()}); update in "
                    f"{-(-total // micro_batch)} micro-batches of {micro_batch}")
            else:
                log(f"  rollouts {done}/{total} done ({self.seconds():.0f} s)")

        def _heartbeat(self) -> None:
            while not self._batch_done.wait(heartbeat_s):
                done, total = self._rollouts
                log(f"  rollouts {done}/{total} done ({self.seconds():.0f} s)")

        def on_substep_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self._micro += 1
            if state.is_world_process_zero and not self._micro % max(1, self._micro_total // 4):
                log(f"  update {self._micro}/{self._micro_total} micro-batches ({self.seconds():.0f} s)")

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any) -> None:
            if not logs or "loss" not in logs or not state.is_world_process_zero:
                return
            seconds, memory = self.seconds(), peak_memory()
            record = {"step": state.global_step}
            record.update({short: logs[long] for long, short in LOG_NAMES.items() if long in logs})
            record.update({f"acc/{k.split('/', 1)[1]}": v for k, v in logs.items() if k.startswith("family/")})
            record["seconds"] = round(seconds, 2)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            log(format_step(state.global_step, state.max_steps, logs, seconds, memory))

        def on_train_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self._batch_done.set()

    return GRPOProgress()


def train_grpo(config: GRPOConfig, *, model: Any = None, tokenizer: Any = None, base_name: str = "default",
               questions: list[Any] | None = None, video_path: Any = None, toolbox: Any = None,
               log: Callable[[str], Any] = print, **trl_overrides: Any) -> Path:
    """Run GRPO (resuming from the latest ``OUT/checkpoint-N`` with ``config.resume``); return the planner
    directory. Progress goes to ``log``. A run that fails or is interrupted before its first checkpoint
    removes the ``OUT`` it made (``run_directory``). Arguments other than ``config`` are for tests and
    notebooks."""
    from vidagent.offline import prepare_training_env  # noqa: PLC0415
    from vidagent.policies.environment import WorldData, make_toolbox  # noqa: PLC0415
    from vidagent.policies.models import planner_to_train, save_planner  # noqa: PLC0415
    from vidagent.tools.toolbox import load_tool_specs  # noqa: PLC0415

    prepare_training_env()
    started = time.perf_counter()
    toolboxes = None
    if questions is None:  # the cheap checks first: a bad world or --trl-args fails before the model loads
        log(f"GRPO: reading the world {config.world} ...")
        world = WorldData.load(config.world)
        video_path, toolbox = world.video_path, make_toolbox(config.tools, world, load_tool_specs(config.tool))
        questions, toolboxes = mixed_questions(config, world, toolbox)
        novel_count = sum(q.family == "tool" for q in questions)
        log(f"GRPO: {len(questions)} questions ({len(questions) - novel_count} of the world, a share "
            f"{config.paraphrase_share:.2f} in train wordings; {novel_count} novel-tool); "
            f"{sum(t.names != toolbox.names for t in toolboxes.values())} with a varied toolbox")
    overrides = {**config.trl_overrides(), **trl_overrides}
    log("GRPO: loading TRL ...")
    trl_config(config, **overrides)  # an unknown or invalid TRL field is a ConfigError now, not after loading
    with run_directory(config.out, "train grpo") as out:
        config.write(out / "grpo_config.json")
        model, tokenizer, base_name = planner_to_train(config, model, tokenizer, base_name, log=log, stage="GRPO")
        trainer = make_trainer(config, model, tokenizer, questions, video_path, toolbox, log=log,
                               base_name=base_name, toolboxes=toolboxes, **overrides)
        checkpoint = latest_trl_checkpoint(out) if config.resume else None
        if not config.resume and (out / LOG_FILE).exists():
            (out / LOG_FILE).unlink()  # a fresh run starts a fresh log
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        log(f"GRPO: {config.steps} steps of {config.batch_rollouts} rollouts ({config.questions_per_step} "
            f"questions x group {config.group_size}) over {len(questions)} questions, tools {config.tools}; "
            f"{trainable:,} trainable parameters; ready in {time.perf_counter() - started:.0f} s"
            + (f"; resuming from {checkpoint}" if checkpoint else ""))
        trainer.train(resume_from_checkpoint=checkpoint)
        save_planner(trainer.model, tokenizer, out, base_name)
        plot_grpo(out)
    return out


def plot_grpo(out: str | Path) -> Path | None:
    from vidagent.policies.plots import plot_curves  # noqa: PLC0415

    from vidagent.policies.plots import plot_prefixed  # noqa: PLC0415

    plot_prefixed(Path(out) / LOG_FILE, Path(out) / "grpo_families.png", "acc/",
                  title="GRPO: rollout accuracy per family (running mean of 5 steps)", window=5)
    return plot_curves(Path(out) / LOG_FILE, Path(out) / "grpo_curves.png", CURVES, title="GRPO (vidagent)")
