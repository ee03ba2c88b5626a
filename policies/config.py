"""Training configs: one dataclass per command, a help text per field, errors that say what to do.

``vidagent train sft`` and ``vidagent train grpo`` get their flags from these dataclasses through
transformers' ``HfArgumentParser`` (``ConfigArgumentParser`` below), so a field added here is a flag there;
nothing is declared twice. A field's ``metadata`` is its flag's: ``help``, plus ``action`` / ``metavar``
where the default rendering needs adjusting (``--tool``).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError

LOSS_TYPES = ("dapo", "dr_grpo", "grpo")
SCALE_REWARDS = ("group", "batch", "none")
ZERO_VARIANCE = ("drop", "keep")


def _help(text: str, **kwargs: Any) -> Any:
    return field(metadata={"help": text}, **kwargs)


def read_trl_args(path: str) -> dict[str, Any]:
    """The JSON object of a ``--trl-args`` file: further fields of TRL's own config (empty without a file)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(f"--trl-args {path} is not valid JSON: {error}", "fix the file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--trl-args {path} must hold a JSON object", 'e.g. {"bf16": true}')
    return data


@dataclass
class CommonConfig:
    """Fields shared by SFT and GRPO."""

    world: str = _help("world directory (`vidagent world generate --out DIR`) holding the questions (required)")
    split: str = _help("split of the world the questions come from: train, val or test", default="train")
    questions: int = _help("how many questions to train on (taken in file order after a seeded shuffle)",
                           default=64)
    planner: str = _help("planner to start from: 'base' (SmolLM2-135M-Instruct without adapter), a model "
                         "directory, or a LoRA adapter directory (trained further, e.g. the SFT output)",
                         default="base")
    out: str = _help("output directory: the planner (adapter) at the top, checkpoints and logs inside; "
                     "training writes under runs/ (git-ignored) unless told otherwise", default="runs/planner")
    tools: str = _help("tool profile of the environment: 'world-truth' answers the default tools from the "
                       "world's ground truth (fast, exact); 'world' runs them with the world-trained models",
                       default="world-truth")
    tool: list[str] = field(default_factory=list, metadata={
        "help": "user tools to add to the toolbox, as module:attr or path/file.py:attr; several after one "
                "flag (--tool a:f b:g) or the flag repeated (--tool a:f --tool b:g); they join the prompt of "
                "every rollout",
        "action": "extend", "metavar": "SPEC"})  # HfArgumentParser passes metadata to add_argument
    lora_r: int = _help("LoRA rank; 0 trains every weight of the model (full fine-tuning)", default=16)
    lora_alpha: int = _help("LoRA alpha (scale = alpha / r)", default=32)
    lora_dropout: float = _help("LoRA dropout (keep 0 for GRPO: rollouts sample with the training model)",
                                default=0.0)
    learning_rate: float = _help("AdamW learning rate", default=2e-4)
    max_tool_calls: int = _help("tool-call budget per question (the graph's Budget.max_tool_calls)", default=4)
    seed: int = _help("seed for question order, sampling and initialisation", default=0)
    save_steps: int = _help("write a checkpoint every N optimizer steps (and at the end)", default=10)
    resume: bool = field(default=False, metadata={
        "help": "continue from the latest checkpoint in OUT (a killed run picks up where it left off); "
                "--resume alone means true", "metavar": "true|false"})

    def __post_init__(self) -> None:
        if not self.world:
            raise ConfigError("no world directory given", "pass --world DIR (made by `vidagent world generate --out DIR`)")
        if self.split not in ("train", "val", "test"):
            raise ConfigError(f"split must be train, val or test, got {self.split!r}", "pass --split train")
        if self.questions < 1:
            raise ConfigError(f"questions must be >= 1, got {self.questions}", "pass --questions 64 or more")
        from vidagent.policies.environment import check_profile  # noqa: PLC0415  (the one list of profiles)

        check_profile(self.tools)
        if self.lora_r < 0:
            raise ConfigError(f"lora_r must be >= 0, got {self.lora_r}", "use e.g. 16, or 0 for full fine-tuning")
        if self.lora_r and self.lora_alpha <= 0:
            raise ConfigError(f"lora_alpha must be > 0, got {self.lora_alpha}", "use e.g. 2 * lora_r")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise ConfigError(f"lora_dropout must be in [0, 1), got {self.lora_dropout}", "use 0.0")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}", "use e.g. 2e-4 for LoRA")
        if self.max_tool_calls < 1:
            raise ConfigError(f"max_tool_calls must be >= 1, got {self.max_tool_calls}",
                              "oracle programs need up to 3 calls: use 4")
        if self.save_steps < 1:
            raise ConfigError(f"save_steps must be >= 1, got {self.save_steps}", "use e.g. 10")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        return path


@dataclass
class MixConfig(CommonConfig):
    """What the planner is trained on besides the world's questions as generated (SFT and GRPO alike;
    ``vidagent.policies.episodes``): other wordings, varied toolboxes, novel tools."""

    paraphrase_share: float = _help("share of the world questions asked in the train wording set "
                                    "(vidagent.tasks.paraphrase; the held-out wordings are never trained on)",
                                    default=0.5)
    vary_tools: float = _help("share of episodes with a varied toolbox: shuffled order, other names and "
                              "descriptions, distractor tools (vidagent.policies.toolbox_variation)", default=0.5)
    novel_per_tool: int = _help("questions per train novel tool (vidagent.tasks.world.novel_tools), each asked "
                                "with its tool in the toolbox, in addition to --questions", default=16)
    open_per_family: int = _help("open questions per family (vidagent.tasks.world.open_questions: what kind "
                                 "of animal or vehicle is in the video, where an object is in the picture), "
                                 "in addition to --questions", default=24)
    recovery_share: float = _help("share of the world episodes that start with a mistaken call (a wrong tool "
                                  "name or argument) and its error, then the right calls; the mistake is not "
                                  "trained on (SFT; GRPO learns recovery from its own errors)", default=0.1)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("paraphrase_share", "vary_tools", "recovery_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}",
                                  f"pass --{name.replace('_', '-')} 0.5")
        for name in ("novel_per_tool", "open_per_family"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}",
                                  f"pass --{name.replace('_', '-')} 0 for none")

    def mix(self) -> Any:
        """The ``episodes.Mix`` these fields describe."""
        from vidagent.policies.episodes import Mix  # noqa: PLC0415
        from vidagent.policies.toolbox_variation import Variation  # noqa: PLC0415

        return Mix(paraphrase_share=self.paraphrase_share, novel_per_tool=self.novel_per_tool,
                   variation=Variation(vary_share=self.vary_tools), recovery_share=self.recovery_share)


@dataclass
class SFTConfig(MixConfig):
    """Supervised cold start on TRL's SFTTrainer over oracle-program trajectories (loss on the planner's own
    tokens only). Fields map to ``trl.SFTConfig`` in ``vidagent.policies.sft.trl_config``; ``trl_args`` passes
    any other TRL field through."""

    out: str = _help("output directory: the planner (adapter) at the top, checkpoints and logs inside; "
                     "training writes under runs/ (git-ignored) unless told otherwise", default="runs/sft")
    epochs: int = _help("passes over the trajectories (TRL num_train_epochs)", default=2)
    batch_size: int = _help("trajectories per optimizer step (TRL: gradient_accumulation_steps over "
                            "per_device_train_batch_size sequences, 1 unless --trl-args sets it)", default=4)
    max_length: int = _help("longest trajectory in tokens; longer ones are skipped (never silently cut)",
                            default=2048)
    max_steps: int = _help("stop after this many optimizer steps in all (0 = run every epoch); with --resume, "
                           "a run stopped early is finished into a planner directory", default=0)
    trl_args: str = _help("JSON file of extra trl.SFTConfig fields for bigger machines (e.g. bf16, "
                          "per_device_train_batch_size, gradient_checkpointing, save_total_limit)", default="")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}", "pass --epochs 1 or more")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}", "pass --batch-size 4")
        if self.max_steps < 0:
            raise ConfigError(f"max_steps must be >= 0, got {self.max_steps}", "use 0 for every epoch")
        if self.max_length < 64:
            raise ConfigError(f"max_length {self.max_length} is too short for a system prompt",
                              "use 2048")
        if self.trl_args and not Path(self.trl_args).is_file():
            raise ConfigError(f"--trl-args {self.trl_args} does not exist", 'pass a JSON file such as {"bf16": true}')

    def trl_overrides(self) -> dict[str, Any]:
        """The extra trl.SFTConfig fields of ``trl_args`` (empty without one)."""
        data = read_trl_args(self.trl_args)
        micro = data.get("per_device_train_batch_size", 1)
        if not isinstance(micro, int) or micro < 1 or self.batch_size % micro:
            raise ConfigError(f"per_device_train_batch_size {micro!r} in --trl-args must divide --batch-size "
                              f"{self.batch_size}", "e.g. --batch-size 8 with per_device_train_batch_size 4")
        return data


@dataclass
class GRPOConfig(MixConfig):
    """GRPO on TRL's GRPOTrainer; rollouts run the planner graph (``vidagent.policies.rollout``)."""

    out: str = _help("output directory: the planner (adapter) at the top, checkpoints and logs inside; "
                     "training writes under runs/ (git-ignored) unless told otherwise", default="runs/grpo")
    learning_rate: float = _help("AdamW learning rate", default=5e-5)
    steps: int = _help("optimizer steps (each: questions_per_step x group_size rollouts)", default=20)
    group_size: int = _help("rollouts per question (GRPO group; TRL num_generations)", default=4)
    questions_per_step: int = _help("distinct questions per optimizer step", default=2)
    micro_batch: int = _help("rollouts per forward/backward pass (gradient accumulation over the step's "
                             "rollouts); memory grows with it: on SmolLM2-135M with LoRA each ~1.5k-token "
                             "rollout of a pass holds ~3-5 GB of activations on a CPU, and a pass of several "
                             "pads them to the longest (docs/training.md, Memory)", default=1)
    loss_type: str = _help("TRL loss: dapo (token-level, TRL default), dr_grpo (no length/std bias) or grpo",
                           default="dapo")
    beta: float = _help("KL coefficient against the starting policy (0 = no reference model, TRL default)",
                        default=0.0)
    epsilon: float = _help("PPO clip range (lower side)", default=0.2)
    epsilon_high: float = _help("upper clip range; > epsilon is DAPO's clip-higher", default=0.28)
    scale_rewards: str = _help("advantage scaling: group (GRPO), batch, or none (Dr.GRPO)", default="group")
    advantage_noise: float = _help("std of Gaussian noise added to advantages so that groups with equal rewards "
                                   "still move (TinyLLaVA-Video-R1 uses 0.02); 0 = off", default=0.0)
    temperature: float = _help("sampling temperature of rollouts (and of TRL's log-prob computation)",
                               default=1.0)
    max_new_tokens: int = _help("tokens per planner reply in rollouts", default=96)
    max_grad_norm: float = _help("gradient clipping", default=1.0)
    balance_families: bool = _help("order the questions so that each step's questions come from different "
                                   "families, round-robin (else TRL shuffles them): a step of only count "
                                   "questions teaches the planner to forget recognize_action", default=True)
    zero_variance: str = _help("groups whose rollouts all scored the same carry no signal: 'drop' takes them "
                               "out of the step's loss (DAPO's dynamic-sampling filter, without the resampling) "
                               "so they do not dilute the token-mean; 'keep' leaves them in (TRL)",
                               default="drop")
    trl_args: str = _help("JSON file of extra trl.GRPOConfig fields for bigger machines (e.g. bf16, deepspeed, "
                          "per_device_train_batch_size); see configs/ at the repository root", default="")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.steps < 1:
            raise ConfigError(f"steps must be >= 1, got {self.steps}", "pass --steps 20")
        if self.group_size < 2:
            raise ConfigError(f"group_size must be >= 2 (GRPO compares rollouts of one question), got "
                              f"{self.group_size}", "pass --group-size 4 or more")
        if self.questions_per_step < 1:
            raise ConfigError(f"questions_per_step must be >= 1, got {self.questions_per_step}",
                              "pass --questions-per-step 2")
        if self.micro_batch < 1 or self.batch_rollouts % self.micro_batch:
            raise ConfigError(f"micro_batch {self.micro_batch} must divide the rollouts of a step "
                              f"({self.questions_per_step} x {self.group_size} = {self.batch_rollouts})",
                              "pass e.g. --micro-batch 2")
        if self.loss_type not in LOSS_TYPES:
            raise ConfigError(f"loss_type must be one of {LOSS_TYPES}, got {self.loss_type!r}",
                              "pass --loss-type dapo")
        if self.scale_rewards not in SCALE_REWARDS:
            raise ConfigError(f"scale_rewards must be one of {SCALE_REWARDS}, got {self.scale_rewards!r}",
                              "pass --scale-rewards group")
        if self.beta < 0:
            raise ConfigError(f"beta must be >= 0, got {self.beta}", "use 0 (no KL) or e.g. 0.01")
        if not 0 < self.epsilon < 1 or self.epsilon_high < self.epsilon:
            raise ConfigError(f"need 0 < epsilon < 1 and epsilon_high >= epsilon, got {self.epsilon} / "
                              f"{self.epsilon_high}", "use --epsilon 0.2 --epsilon-high 0.28")
        if self.zero_variance not in ZERO_VARIANCE:
            raise ConfigError(f"zero_variance must be one of {ZERO_VARIANCE}, got {self.zero_variance!r}",
                              "pass --zero-variance drop")
        if self.advantage_noise < 0:
            raise ConfigError(f"advantage_noise must be >= 0, got {self.advantage_noise}", "use 0 or 0.02")
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be > 0, got {self.temperature}",
                              "GRPO needs sampling: use 1.0")
        if self.max_new_tokens < 8:
            raise ConfigError(f"max_new_tokens {self.max_new_tokens} cannot hold a tool call", "use 96")
        if self.trl_args and not Path(self.trl_args).is_file():
            raise ConfigError(f"--trl-args {self.trl_args} does not exist", "pass a JSON file such as configs/grpo_gpu.json")

    def trl_overrides(self) -> dict[str, Any]:
        """The extra trl.GRPOConfig fields of ``trl_args`` (empty without one)."""
        return read_trl_args(self.trl_args)

    @property
    def batch_rollouts(self) -> int:
        return self.questions_per_step * self.group_size


# ---------------------------------------------------------------------------------------------------
# CLI: transformers' HfArgumentParser turns the dataclasses into flags
# ---------------------------------------------------------------------------------------------------


class ConfigArgumentParser(argparse.ArgumentParser):
    """A parser whose flags are ``transformers.HfArgumentParser(config_class)``'s: one per field (``--lora-r``
    and ``--lora_r``), the help from ``field(metadata={"help": ...})``, the field's default, required when the
    field has none, ``nargs="+"`` for lists, ``--flag [true|false]`` for bools (``--resume`` alone = true).

    The flags are added on first use (parsing, help or usage), not at construction: importing transformers
    takes seconds and ``vidagent --help`` or ``vidagent ask`` must not pay for it. It is the ``parser_class``
    of ``vidagent train``'s subcommands; without ``config_class`` it is a plain ``ArgumentParser``.
    """

    def __init__(self, *args: Any, config_class: type | None = None, **kwargs: Any) -> None:
        if config_class is not None:
            kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)
        self.config_class = config_class
        self._config_flags_added = config_class is None

    def add_config_flags(self) -> None:
        if not self._config_flags_added:
            self._config_flags_added = True
            add_config_arguments(self, self.config_class)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self.add_config_flags()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self.add_config_flags()
        return super().format_usage()

    def format_help(self) -> str:
        self.add_config_flags()
        return super().format_help()


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """HfArgumentParser's formatter (``(default: X)`` after each help), without empty or missing defaults."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.required or action.default in (None, "", []):
            return action.help
        return super()._get_help_string(action)


def add_config_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add ``HfArgumentParser(cls)``'s flags to ``parser``: what ``parents=[HfArgumentParser(cls)]`` does, for a
    parser built before transformers is imported."""
    from transformers import HfArgumentParser

    source = HfArgumentParser(cls, add_help=False)
    for action in source._actions:  # HfArgumentParser names --lora_r before --lora-r: show the dashed one
        action.option_strings.sort(key=lambda option: "_" in option)
    parser._add_container_actions(source)


def config_from_args(cls: type, args: argparse.Namespace) -> Any:
    """The ``cls`` of parsed flags (``HfArgumentParser.parse_dict``; other attributes of ``args`` are ignored).
    ``__post_init__`` runs here, so a bad value is a ``ConfigError``: the CLI prints it as one ``error:``
    line and exits with status 2."""
    from transformers import HfArgumentParser

    (config,) = HfArgumentParser(cls).parse_dict(vars(args), allow_extra_keys=True)
    return config


def checkpointing_alias(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with transformers' deprecated ``gradient_checkpointing[_kwargs]`` under their new names
    ``activation_checkpointing[_kwargs]``: transformers reads the old name only while the new one is unset, so
    an old name in --trl-args (configs/grpo_gpu.json) would be ignored silently next to our explicit default."""
    renamed = dict(options)
    for old, new in (("gradient_checkpointing", "activation_checkpointing"),
                     ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs")):
        if old in renamed:
            value = renamed.pop(old)
            renamed.setdefault(new, value)
    return renamed


def check_trl_fields(options: dict[str, Any], trl_class: type, *, source: str) -> None:
    """Raise a ``ConfigError`` naming the keys of ``options`` that ``trl_class`` (``trl.GRPOConfig``,
    ``trl.SFTConfig``) has no field for, each with the closest valid names, instead of TRL's TypeError."""
    valid = sorted(f.name for f in fields(trl_class) if f.init)
    unknown = sorted(set(options) - set(valid))
    if not unknown:
        return
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
        parts.append(f"{key} (did you mean {' or '.join(close)}?)" if close else key)
    name = f"{trl_class.__module__.split('.')[0]}.{trl_class.__name__}"
    raise ConfigError(f"{source}: unknown {name} field{'s' if len(unknown) > 1 else ''}: {', '.join(parts)}",
                      f"use field names of {name} (python -c \"import {trl_class.__module__.split('.')[0]}; "
                      f"help({name})\"), or drop the key{'s' if len(unknown) > 1 else ''}")


def build_trl_config(trl_class: type, options: dict[str, Any], overrides: dict[str, Any], *,
                     trl_args: str | None, command: str) -> Any:
    """``trl_class(**options)`` with ``overrides`` (``--trl-args`` and keyword overrides) applied: an unknown
    key (a typo) is a ``ConfigError`` with the closest field names, not TRL's TypeError; a value TRL's own
    checks reject (e.g. incompatible batch sizes) is a ``ConfigError`` naming ``vidagent train COMMAND``."""
    check_trl_fields(overrides, trl_class, source=f"--trl-args {trl_args}" if trl_args else "trl overrides")
    options = {**options, **checkpointing_alias(overrides)}
    try:
        return trl_class(**options)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"trl.{trl_class.__name__} rejected the settings: {error}",
                          f"change the flag or --trl-args field it names (vidagent train {command} --help)") from None
