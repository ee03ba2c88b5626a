"""SFT cold start: teach the planner the tool-call format on oracle-program trajectories.

    vidagent train sft --world data/world --questions 128 --out runs/sft

Simplifications (and why):

- a plain PyTorch loop, not TRL's SFTTrainer: the trajectories are already token ids with a mask, the
  loop is 30 lines, and resuming is explicit;
- loss on the planner's own tokens only (tool calls, answers, their end-of-turn tokens): the system
  prompt, the question and the tool observations are context, never targets;
- one sequence per forward pass, gradients accumulated over ``batch_size`` sequences (no padding waste on
  a CPU); the loss is the mean over target tokens of the batch.

Output: ``OUT/`` is a loadable planner (LoRA adapter or full model); ``OUT/checkpoints/step-N/`` hold the
weights, the optimizer and the step for ``--resume``; ``OUT/sft_log.jsonl`` and ``OUT/sft_loss.png`` the curve.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError
from vidagent.policies.config import SFTConfig
from vidagent.policies.trajectories import Trajectory

LOG_FILE = "sft_log.jsonl"
TRAJECTORY_FILE = "sft_trajectories.jsonl"


@dataclass
class SFTResult:
    out: Path
    steps: int
    losses: list[float]  # per optimizer step
    trajectories: int


def sequence_loss(model: Any, trajectory: Trajectory) -> tuple[Any, int]:
    """Summed cross-entropy over the planner's own tokens of one trajectory, and how many there are."""
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: PLC0415

    device = next(model.parameters()).device
    ids = torch.tensor([trajectory.ids], device=device)  # [1, T]
    labels = torch.tensor([trajectory.labels], device=device)  # [1, T]; -100 = not a target
    # Targets lie in the completion only: compute logits for its K = len + 1 last positions, not for the
    # ~900 prompt tokens (the vocabulary projection is the costliest layer of a small model).
    keep = len(trajectory.completion_ids) + 1
    logits = model(input_ids=ids, logits_to_keep=keep).logits[:, :-1].float()  # [1, K-1, V]: t predicts t+1
    targets = labels[:, -(keep - 1):]  # [1, K-1]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100,
                           reduction="sum")
    return loss, int((targets != -100).sum())


def batch_loss(model: Any, batch: list[Trajectory], backward: bool = True) -> float:
    """Mean loss per target token over ``batch``; accumulates gradients when ``backward``."""
    total_tokens = sum(sum(t.model_mask) for t in batch)
    if total_tokens == 0:
        raise ConfigError("a batch has no planner tokens to learn", "check the trajectories' model_mask")
    value = 0.0
    for trajectory in batch:
        loss, _ = sequence_loss(model, trajectory)
        loss = loss / total_tokens
        if backward:
            loss.backward()
        value += float(loss.detach())
    return value


def build_sft_trajectories(config: SFTConfig, tokenizer: Any, model: Any) -> list[Trajectory]:
    """Oracle-program replays of ``config.questions`` questions of the world's ``config.split``."""
    from vidagent.agent.planner_loading import local_chat_model  # noqa: PLC0415
    from vidagent.policies.environment import WorldData, make_toolbox  # noqa: PLC0415
    from vidagent.tools.toolbox import load_tool_specs  # noqa: PLC0415
    from vidagent.policies.trajectories import oracle_trajectories  # noqa: PLC0415

    world = WorldData.load(config.world)
    toolbox = make_toolbox(config.tools, world, load_tool_specs(config.tool))
    questions = world.questions(config.split, config.questions, seed=config.seed)
    chat = local_chat_model(model, tokenizer)
    trajectories, skipped = oracle_trajectories(questions, world.video_path, toolbox, chat,
                                                max_tool_calls=config.max_tool_calls)
    for line in skipped[:5]:
        print(f"skipped {line}")
    if skipped:
        print(f"skipped {len(skipped)} of {len(questions)} questions whose program failed on the tools")
    return [t for t in trajectories if len(t.ids) <= config.max_length]


def train_sft(config: SFTConfig, *, model: Any = None, tokenizer: Any = None, base_name: str = "default",
              trajectories: list[Trajectory] | None = None, log: Any = print) -> SFTResult:
    """Run SFT. ``model``/``tokenizer``/``trajectories`` may be given (tests, notebooks); otherwise they
    come from ``config.planner`` and oracle replays over ``config.world``."""
    import torch  # noqa: PLC0415

    from vidagent.policies.models import save_planner, trainable_model, with_lora  # noqa: PLC0415

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    config.write(out / "sft_config.json")
    torch.manual_seed(config.seed)
    if model is None:
        model, tokenizer, base_name = trainable_model(config.planner, config.lora_r, config.lora_alpha,
                                                      config.lora_dropout)
    else:
        model = with_lora(model, config.lora_r, config.lora_alpha, config.lora_dropout)
    if trajectories is None:
        trajectories = load_or_build_trajectories(config, tokenizer, model, out)
    if not trajectories:
        raise ConfigError("no SFT trajectories", "use a world with train questions, or a larger --max-length")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    per_epoch = (len(trajectories) + config.batch_size - 1) // config.batch_size
    total = per_epoch * config.epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    start = resume_sft(model, optimizer, out) if config.resume else 0
    log(f"SFT: {len(trajectories)} trajectories, {total} steps ({config.epochs} epochs of {per_epoch}); "
        f"{sum(p.numel() for p in params):,} trainable parameters" + (f"; resuming at step {start}" if start else ""))
    losses: list[float] = []
    model.train()
    with (out / LOG_FILE).open("a" if start else "w", encoding="utf-8") as handle:
        for step in range(start, total):
            batch = batch_for_step(trajectories, step, per_epoch, config.batch_size, config.seed)
            started = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = batch_loss(model, batch)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            losses.append(loss)
            record = {"step": step + 1, "epoch": step // per_epoch + 1, "loss": round(loss, 5),
                      "tokens": sum(len(t.ids) for t in batch), "seconds": round(time.perf_counter() - started, 2)}
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            log(f"step {step + 1}/{total} loss {loss:.4f} ({record['seconds']}s)")
            if (step + 1) % config.save_steps == 0 or step + 1 == total:
                save_sft_checkpoint(model, optimizer, out, step + 1)
    model.eval()
    save_planner(model, tokenizer, out, base_name)
    plot_sft(out)
    return SFTResult(out, total, losses, len(trajectories))


def batch_for_step(trajectories: list[Trajectory], step: int, per_epoch: int, batch_size: int,
                   seed: int) -> list[Trajectory]:
    """The batch of a global step: a seeded shuffle per epoch, so a resumed run sees the same batches."""
    epoch, index = divmod(step, per_epoch)
    order = list(range(len(trajectories)))
    random.Random(seed * 1000 + epoch).shuffle(order)
    return [trajectories[i] for i in order[index * batch_size:(index + 1) * batch_size]]


def load_or_build_trajectories(config: SFTConfig, tokenizer: Any, model: Any, out: Path) -> list[Trajectory]:
    """Replays are cached in ``OUT/sft_trajectories.jsonl`` so that a resumed run trains on the same data."""
    path = out / TRAJECTORY_FILE
    if config.resume and path.is_file():
        return [Trajectory.from_dict(json.loads(line)) for line in path.read_text().splitlines() if line]
    trajectories = build_sft_trajectories(config, tokenizer, model)
    with path.open("w", encoding="utf-8") as handle:
        for t in trajectories:
            handle.write(json.dumps(t.to_dict()) + "\n")
    return trajectories


# ---------------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------------


def save_sft_checkpoint(model: Any, optimizer: Any, out: Path, step: int) -> Path:
    import torch  # noqa: PLC0415
    from safetensors.torch import save_file  # noqa: PLC0415

    directory = out / "checkpoints" / f"step-{step}"
    directory.mkdir(parents=True, exist_ok=True)
    weights = {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}
    save_file(weights, str(directory / "trainable.safetensors"))
    torch.save(optimizer.state_dict(), directory / "optimizer.pt")
    (directory / "state.json").write_text(json.dumps({"step": step}))
    return directory


def latest_checkpoint(out: Path) -> Path | None:
    found = [p for p in (out / "checkpoints").glob("step-*") if (p / "state.json").is_file()]
    return max(found, key=lambda p: int(p.name.split("-")[1]), default=None)


def resume_sft(model: Any, optimizer: Any, out: Path) -> int:
    """Load the latest checkpoint's trainable weights and optimizer; return its step (0 if none)."""
    import torch  # noqa: PLC0415
    from safetensors.torch import load_file  # noqa: PLC0415

    checkpoint = latest_checkpoint(out)
    if checkpoint is None:
        return 0
    weights = load_file(str(checkpoint / "trainable.safetensors"))
    named = dict(model.named_parameters())
    missing = set(weights) ^ {n for n, p in named.items() if p.requires_grad}
    if missing:
        raise ConfigError(f"checkpoint {checkpoint} does not match the model ({len(missing)} parameters differ)",
                          "resume with the same --planner and LoRA settings, or start a new --out")
    with torch.no_grad():
        for name, value in weights.items():
            named[name].copy_(value)
    # weights_only=True: an optimizer state is tensors and plain containers
    optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", weights_only=True))
    return json.loads((checkpoint / "state.json").read_text())["step"]


def plot_sft(out: Path) -> Path | None:
    from vidagent.policies.plots import plot_curves  # noqa: PLC0415

    return plot_curves(out / LOG_FILE, out / "sft_loss.png", [("loss", "SFT loss (planner tokens)")],
                       title="SFT cold start")
