"""SFT cold start on TRL's ``SFTTrainer``: teach the planner the tool-call format on oracle-program trajectories.

    vidagent train sft --world data/world --questions 128 --out runs/sft

What TRL does (``trl.SFTTrainer``, a ``transformers.Trainer``): the training loop (AdamW, gradient
accumulation, clipping, seeded shuffling), the loss (labels built from our ``assistant_masks`` column:
-100 where the mask is 0; the loss is the mean over target tokens of the optimizer step, computed by its
fused LM head), checkpoints ``OUT/checkpoint-N/`` (weights or adapter, optimizer, scheduler, RNG, trainer
state) and ``train(resume_from_checkpoint=...)``, which skips the batches already trained.

What vidagent adds:

- the data: oracle programs replayed through the planner graph (``vidagent.policies.trajectories``), already
  token ids rendered with the chat template the planner uses at inference, with the mask of the planner's
  own tokens. They are passed pre-tokenized (``input_ids`` + ``assistant_masks``), so TRL neither tokenises
  nor applies a template; trajectories over ``max_length`` are dropped here, never cut. Replays are cached
  in ``OUT/sft_trajectories.jsonl`` so that ``--resume`` trains on the same data;
- the mapping of ``SFTConfig`` to ``trl.SFTConfig`` (``trl_config``; ``--trl-args FILE`` passes more fields);
- on a CPU, TRL's LM head scores the target positions only, as it does on GPUs (``_score_targets_only_on_cpu``);
- ``OUT/sft_log.jsonl`` (one record per optimizer step) and ``OUT/sft_loss.png``;
- the planner directory: ``OUT/`` is a loadable planner (LoRA adapter or full model, ``save_planner``);
  TRL's model card ``OUT/README.md`` names the base model (``card_names_base``);
- a run that fails or is interrupted before its first checkpoint removes the ``OUT`` it created
  (``vidagent.policies.training_run.run_directory``); with checkpoints it says how to ``--resume``.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError
from vidagent.policies.config import SFTConfig, build_trl_config
from vidagent.policies.training_run import (
    card_base_model,
    card_names_base,
    latest_trl_checkpoint,
    run_directory,
)
from vidagent.policies.trajectories import Trajectory

LOG_FILE = "sft_log.jsonl"
TRAJECTORY_FILE = "sft_trajectories.jsonl"


@dataclass
class SFTResult:
    out: Path
    steps: int  # the trainer's global step at the end (a resumed run counts the steps before it too)
    losses: list[float] = field(default_factory=list)  # per optimizer step of this call
    trajectories: int = 0


def sft_dataset(trajectories: list[Trajectory]) -> Any:
    """Pre-tokenized TRL dataset: ``input_ids`` and ``assistant_masks`` (TRL sets the label of every 0 to -100)."""
    from datasets import Dataset  # noqa: PLC0415

    rows = []
    for t in trajectories:
        if not any(t.model_mask):
            raise ConfigError(f"trajectory {t.question_id} has no planner tokens to learn",
                              "check the trajectories' model_mask")
        # The loss covers only the planner's own tokens (its tool calls, answers and their end-of-turn
        # tokens): the system prompt, the question and the tool observations are context, masked out (0).
        rows.append({"input_ids": t.ids, "assistant_masks": [0] * len(t.prompt_ids) + list(t.model_mask)})
    return Dataset.from_list(rows)


def trl_config(config: SFTConfig, **overrides: Any) -> Any:
    """The ``trl.SFTConfig`` for a vidagent config (one place maps our names to TRL's)."""
    import torch  # noqa: PLC0415
    from trl import SFTConfig as TRLConfig  # noqa: PLC0415

    micro = overrides.get("per_device_train_batch_size", 1)
    options = dict(
        output_dir=config.out, num_train_epochs=config.epochs, max_steps=config.max_steps or -1,
        learning_rate=config.learning_rate, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
        max_grad_norm=1.0,
        # batch_size sequences per optimizer step: one per forward pass by default (no padding on a CPU)
        per_device_train_batch_size=micro, gradient_accumulation_steps=max(1, config.batch_size // micro),
        # pre-tokenized rows: TRL keeps our ids and builds the labels from `assistant_masks` (no chat template,
        # no tokenisation); assistant_only_loss / completion_only_loss are for text datasets TRL tokenises
        max_length=config.max_length, assistant_only_loss=False, completion_only_loss=False, packing=False,
        save_strategy="steps", save_steps=config.save_steps, save_only_model=False, logging_steps=1,
        report_to=[], seed=config.seed, data_seed=config.seed, use_cpu=not torch.cuda.is_available(),
        bf16=False, fp16=False, activation_checkpointing=False, dataloader_num_workers=0, disable_tqdm=True,
    )
    return build_trl_config(TRLConfig, options, overrides, trl_args=config.trl_args, command="sft")


def make_trainer(config: SFTConfig, model: Any, tokenizer: Any, trajectories: list[Trajectory], *,
                 callbacks: list[Any] | None = None, base_name: str | None = None, **trl_overrides: Any) -> Any:
    """A ``VidagentSFTTrainer`` for ``model`` (a PeftModel for LoRA, or a plain model for full training);
    ``base_name`` is the base model its model card names."""
    trainer_class = vidagent_trainer_class()
    trainer = trainer_class(model=model, args=trl_config(config, **trl_overrides),
                            train_dataset=sft_dataset(trajectories), processing_class=tokenizer, callbacks=callbacks)
    trainer.card_base_model = card_base_model(base_name) if base_name is not None else None
    return trainer


@contextmanager
def _quiet_datasets() -> Iterator[None]:
    """No ``datasets`` progress bars for TRL's label-building pass over a few in-memory rows."""
    from datasets.utils import logging as datasets_logging  # noqa: PLC0415

    enabled = datasets_logging.is_progress_bar_enabled()
    datasets_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            datasets_logging.enable_progress_bar()


@contextmanager
def _score_targets_only_on_cpu() -> Iterator[None]:
    """TRL's fused LM head projects only the positions with a label on Triton devices, and every position
    elsewhere, so that compiled backends (XLA, Neuron) see one tile shape. A CPU compiles nothing, and our
    sequences are mostly prompt (~150 targets in ~1,050 tokens): taking TRL's own Triton-device path (the
    targets only) on a CPU too is ~20x less LM-head work, for the same loss (tested). Active only inside
    ``compute_loss``; should a TRL release drop the helper, TRL's default applies (slower, same loss)."""
    import trl.trainer.utils as trl_utils  # noqa: PLC0415

    original = getattr(trl_utils, "_use_triton", None)
    if original is None:
        yield
        return
    trl_utils._use_triton = lambda device: device.type == "cpu" or original(device)
    try:
        yield
    finally:
        trl_utils._use_triton = original


@functools.cache  # built once, lazily: importing trl is slow and the CLI must start fast
def vidagent_trainer_class() -> Any:
    """``SFTTrainer`` whose loss forward scores the target positions only on a CPU too (see above)."""
    from trl import SFTTrainer  # noqa: PLC0415

    class VidagentSFTTrainer(SFTTrainer):
        card_base_model: str | None = None  # the base model TRL's model card names (see card_names_base)

        def create_model_card(self, *args: Any, **kwargs: Any) -> None:
            with card_names_base(self.model, self.card_base_model):
                super().create_model_card(*args, **kwargs)

        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            with _score_targets_only_on_cpu():
                return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                            num_items_in_batch=num_items_in_batch)

    return VidagentSFTTrainer


def build_sft_trajectories(config: SFTConfig, tokenizer: Any, model: Any, world: Any = None) -> list[Trajectory]:
    """Oracle-program replays of ``config.questions`` questions of the world's ``config.split``, mixed as
    ``vidagent.policies.episodes`` says (train wordings, varied toolboxes, novel-tool questions); ``world``:
    the ``WorldData`` of ``config.world`` when already loaded."""
    from vidagent.agent.planner_loading import local_chat_model  # noqa: PLC0415
    from vidagent.policies.environment import WorldData, make_toolbox  # noqa: PLC0415
    from vidagent.policies.episodes import build_episodes, replay, training_questions  # noqa: PLC0415
    from vidagent.tasks.world.open_questions import OPEN_FAMILIES  # noqa: PLC0415
    from vidagent.tools.toolbox import load_tool_specs  # noqa: PLC0415

    world = world if world is not None else WorldData.load(config.world)
    toolbox = make_toolbox(config.tools, world, load_tool_specs(config.tool))
    drawn = training_questions(world, config.split, config.questions, novel_per_tool=config.novel_per_tool,
                               open_per_family=config.open_per_family, seed=config.seed)
    episodes, skipped = build_episodes(drawn.questions, world.video_path, toolbox, config.mix(),
                                       seed=config.seed, novel=drawn.novel, novel_tools=drawn.novel_tools)
    chat = local_chat_model(model, tokenizer)
    trajectories: list[Trajectory] = []
    for episode in episodes:
        made = replay(episode, world.video_path(episode.question), chat, max_tool_calls=config.max_tool_calls)
        if isinstance(made, str):
            skipped.append(made)
        else:
            trajectories.append(made)
    kinds = {k: sum(1 for e in episodes if e.kind == k) for k in ("world", "paraphrased", "novel")}
    varied = sum(1 for e in episodes if e.toolbox.names != toolbox.names)
    print(f"episodes: {kinds['world']} in the generator's words, {kinds['paraphrased']} in train wordings, "
          f"{kinds['novel']} novel-tool questions, {sum(q.family in OPEN_FAMILIES for q in drawn.questions)} open questions "
          f"(among the first two); {varied} with a varied toolbox, "
          f"{sum(e.recovery for e in episodes)} recovering from a mistaken first call")
    for line in skipped[:5]:
        print(f"skipped {line}")
    if skipped:
        print(f"skipped {len(skipped)} of {len(drawn.questions) + len(drawn.novel)} questions whose program "
              "failed on the tools")
    return [t for t in trajectories if len(t.ids) <= config.max_length]


def load_or_build_trajectories(config: SFTConfig, tokenizer: Any, model: Any, out: Path,
                               world: Any = None) -> list[Trajectory]:
    """Replays are cached in ``OUT/sft_trajectories.jsonl`` so that a resumed run trains on the same data."""
    path = out / TRAJECTORY_FILE
    if config.resume and path.is_file():
        return [Trajectory.from_dict(json.loads(line)) for line in path.read_text().splitlines() if line]
    trajectories = build_sft_trajectories(config, tokenizer, model, world)
    with path.open("w", encoding="utf-8") as handle:
        for t in trajectories:
            handle.write(json.dumps(t.to_dict()) + "\n")
    return trajectories


def train_sft(config: SFTConfig, *, model: Any = None, tokenizer: Any = None, base_name: str = "default",
              trajectories: list[Trajectory] | None = None, log: Any = print, callbacks: list[Any] | None = None,
              **trl_overrides: Any) -> SFTResult:
    """Run SFT (resuming from the latest ``OUT/checkpoint-N`` with ``config.resume``). ``model``/``tokenizer``/
    ``trajectories``/``callbacks`` may be given (tests, notebooks); otherwise they come from
    ``config.planner`` and oracle replays over ``config.world``. A run that fails or is interrupted before
    its first checkpoint removes the ``OUT`` it made (``run_directory``)."""
    import torch  # noqa: PLC0415
    from transformers import PrinterCallback  # noqa: PLC0415
    from vidagent.policies.environment import WorldData  # noqa: PLC0415
    from vidagent.policies.models import planner_to_train, save_planner  # noqa: PLC0415

    world = None
    if trajectories is None:  # the cheap checks first: a bad world or --trl-args fails before the model loads
        log(f"SFT: reading the world {config.world} ...")
        world = WorldData.load(config.world)
        world.questions(config.split, 1)  # a ConfigError if the split has no questions
    overrides = {**config.trl_overrides(), **trl_overrides}
    log("SFT: loading TRL ...")
    trl_config(config, **overrides)  # an unknown or invalid TRL field is a ConfigError now, not after loading
    with run_directory(config.out, "train sft") as out:
        config.write(out / "sft_config.json")
        torch.manual_seed(config.seed)  # the LoRA initialisation (TRL seeds again before training)
        model, tokenizer, base_name = planner_to_train(config, model, tokenizer, base_name, log=log, stage="SFT")
        if trajectories is None:
            log(f"SFT: oracle-program replays of {config.questions} {config.split} questions (cached in "
                f"{out / TRAJECTORY_FILE}) ...")
            trajectories = load_or_build_trajectories(config, tokenizer, model, out, world)
        if not trajectories:
            raise ConfigError("no SFT trajectories", "use a world with train questions, or a larger --max-length")
        progress = jsonl_callback(out / LOG_FILE, log)
        with _quiet_datasets():
            trainer = make_trainer(config, model, tokenizer, trajectories, callbacks=[progress, *(callbacks or [])],
                                   base_name=base_name, **overrides)
        trainer.remove_callback(PrinterCallback)  # our per-step line replaces its dict print
        args = trainer.args
        per_epoch = max(1, math.ceil(math.ceil(len(trajectories) / (args.per_device_train_batch_size
                                                                   * args.world_size))
                                     / args.gradient_accumulation_steps))  # as transformers counts them
        total = per_epoch * config.epochs
        if config.max_steps:
            total = min(total, config.max_steps)
            args.max_steps = total  # a larger --max-steps never adds epochs
        checkpoint = latest_trl_checkpoint(out) if config.resume else None
        start = json.loads((Path(checkpoint) / "trainer_state.json").read_text())["global_step"] if checkpoint else 0
        progress.start(start)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        log(f"SFT: {len(trajectories)} trajectories, {total} steps ({config.epochs} epochs of {per_epoch}); "
            f"{trainable:,} trainable parameters" + (f"; resuming at step {start} from {checkpoint}" if start else ""))
        trainer.train(resume_from_checkpoint=checkpoint)
        model = trainer.model
        model.eval()
        save_planner(model, tokenizer, out, base_name)
        plot_sft(out)
    return SFTResult(out, trainer.state.global_step, progress.losses, len(trajectories))


def jsonl_callback(path: Path, log: Any) -> Any:
    """A ``TrainerCallback`` writing one JSON line per optimizer step (the format ``plot_sft`` and ``results/``
    read) and a progress line to ``log``. Built lazily: importing transformers is slow, the CLI must start fast."""
    from transformers import TrainerCallback  # noqa: PLC0415

    class JsonlLog(TrainerCallback):
        def __init__(self) -> None:
            self.losses: list[float] = []
            self._began, self._tokens = time.perf_counter(), 0

        def start(self, step: int) -> None:
            """A fresh run starts a fresh log; a resumed one keeps the records up to its checkpoint's step
            (a killed run may have logged steps after it, which are trained again)."""
            kept = []
            if step and path.is_file():
                kept = [line for line in path.read_text(encoding="utf-8").splitlines()
                        if line.strip() and json.loads(line)["step"] <= step]
            path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

        def on_step_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self._began = time.perf_counter()

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any) -> None:
            if not logs or "loss" not in logs or not state.is_world_process_zero:
                return
            tokens = int(logs.get("num_tokens", self._tokens)) - self._tokens  # TRL logs a running total
            self._tokens += tokens
            loss = float(logs["loss"])
            self.losses.append(loss)
            record = {"step": state.global_step, "epoch": math.ceil(round(state.epoch or 0, 6)),
                      "loss": round(loss, 5), "tokens": tokens, "seconds": round(time.perf_counter() - self._began, 2)}
            for long, short in (("mean_token_accuracy", "token_accuracy"), ("grad_norm", "grad_norm"),
                                ("learning_rate", "learning_rate")):
                if logs.get(long) is not None:
                    record[short] = round(float(logs[long]), 6)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            log(f"step {state.global_step}/{state.max_steps} loss {loss:.4f} ({record['seconds']}s)")

    return JsonlLog()


def plot_sft(out: Path) -> Path | None:
    from vidagent.policies.plots import plot_curves  # noqa: PLC0415

    return plot_curves(out / LOG_FILE, out / "sft_loss.png", [("loss", "SFT loss (planner tokens)")],
                       title="SFT cold start")
