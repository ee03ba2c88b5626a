"""GRPO through TRL's GRPOTrainer with the real rollout function (the planner graph) on a tiny model."""

from __future__ import annotations

import json

import pytest
import torch
from tiny_planner import smollm2_tokenizer, some_split, tiny_llama, tiny_world

from vidagent.agent.chat_models.local import Generation, LocalChatModel
from vidagent.policies.config import GRPOConfig
from vidagent.policies.environment import WorldData, make_toolbox
from vidagent.policies.grpo import LOG_FILE, train_grpo
from vidagent.policies.models import with_lora
from vidagent.policies.rollout import GraphRollout


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tiny_world(tmp_path_factory.mktemp("world"))
    world = WorldData.load(root)
    split = some_split(root)
    return root, split, world, make_toolbox("world-truth", world), smollm2_tokenizer()


def grpo_config(root, split, out, **overrides) -> GRPOConfig:
    # advantage noise: a random tiny model earns equal rewards in every group, so without noise every
    # advantage is 0 and nothing would move (the case the option exists for); such groups are kept
    # (zero_variance="keep"): dropping them would leave nothing to learn from
    options = dict(world=str(root), split=split, questions=4, out=str(out), steps=2, group_size=2,
                   questions_per_step=2, lora_r=4, lora_alpha=8, learning_rate=1e-2, max_tool_calls=1,
                   max_new_tokens=12, advantage_noise=1.0, save_steps=1, zero_variance="keep")
    options.update(overrides)
    return GRPOConfig(**options)


def test_unknown_trl_args_field_is_a_config_error_with_the_closest_names(tmp_path):
    from vidagent.errors import ConfigError
    from vidagent.policies.grpo import trl_config

    trl = tmp_path / "trl.json"
    trl.write_text(json.dumps({"bf16": False, "bf17": True, "per_device_train_batchsize": 2, "zzz_nothing": 1}))
    config = GRPOConfig(world=str(tmp_path), trl_args=str(trl))
    with pytest.raises(ConfigError) as caught:
        trl_config(config, **config.trl_overrides())
    problem = caught.value.problem
    assert problem.startswith(f"--trl-args {trl}: unknown trl.GRPOConfig fields: bf17 (did you mean bf16")
    assert "per_device_train_batchsize (did you mean per_device_train_batch_size" in problem
    assert "zzz_nothing" in problem and "bf16," not in problem and caught.value.fix
    assert trl_config(config, bf16=False).bf16 is False  # valid fields pass through


@pytest.mark.slow
def test_two_grpo_steps_through_the_graph_change_every_trained_parameter(env, tmp_path):
    root, split, world, toolbox, tokenizer = env
    model = with_lora(tiny_llama(tokenizer), 4, 8, 0.0)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    assert before
    config = grpo_config(root, split, tmp_path / "grpo", save_steps=2)
    lines: list[str] = []
    out = train_grpo(config, model=model, tokenizer=tokenizer, questions=world.questions(split, 4),
                     video_path=world.video_path, toolbox=toolbox, log=lines.append)
    after = dict(model.named_parameters())
    steps = [line for line in lines if line.startswith("step ") and "reward" in line]
    assert [line.split(":")[0] for line in steps] == ["step 1/2", "step 2/2"]  # one readable line per step
    assert all("zero-variance groups" in line and "peak RSS" in line for line in steps)
    assert any(line.startswith("  rollouts 4/4 done") for line in lines)
    unchanged = [n for n, p in before.items() if torch.equal(p, after[n].detach())]
    assert not unchanged, unchanged
    records = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2]
    for key in ("reward", "accuracy", "zero_variance_share", "completion_length", "tool_calls"):
        assert key in records[0], key
    assert any(k.startswith("acc/") for k in records[0])  # per-family accuracy of the step's rollouts
    assert (out / "adapter_config.json").is_file() and (out / "grpo_curves.png").is_file()
    # TRL's model card names the base model, not "[None]" (the offline copy is a local folder)
    assert "fine-tuned version of [HuggingFaceTB/SmolLM2-135M-Instruct]" in (out / "README.md").read_text()


@pytest.mark.slow
def test_grpo_resume_continues_from_the_saved_step(env, tmp_path):
    root, split, world, toolbox, tokenizer = env
    questions = world.questions(split, 4)
    first = grpo_config(root, split, tmp_path / "grpo", steps=1)
    train_grpo(first, model=tiny_llama(tokenizer), tokenizer=tokenizer, questions=questions,
               video_path=world.video_path, toolbox=toolbox)
    assert (tmp_path / "grpo" / "checkpoint-1" / "trainer_state.json").is_file()
    resumed = grpo_config(root, split, tmp_path / "grpo", steps=2, resume=True)
    out = train_grpo(resumed, model=tiny_llama(tokenizer), tokenizer=tokenizer, questions=questions,
                     video_path=world.video_path, toolbox=toolbox)
    steps = [json.loads(line)["step"] for line in (out / LOG_FILE).read_text().splitlines()]
    assert steps == [1, 2]  # the resumed run ran step 2 only
    state = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2


def test_env_mask_zeroes_exactly_the_observation_tokens(env, monkeypatch):
    root, split, world, toolbox, tokenizer = env
    question = next(q for q in world.questions(split) if q.program is not None and q.program.hops == 1)
    call = question.program.calls[0]
    args = {k: v for k, v in call.args.items() if not isinstance(v, dict)}
    replies = [json.dumps({"name": call.tool, "arguments": args}).join(["<tool_call>", "</tool_call>"]),
               "<answer>2</answer>"]
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")

    def scripted_generate(self, prompts):  # the policy "samples" these replies: tool call, then answer
        out = []
        for prompt in prompts:
            turn = tokenizer.decode(prompt).count("<tool_response>") - tokenizer.decode(prompt).count(
                "<tool_response>", 0, tokenizer.decode(prompt).find("<|im_start|>user"))
            ids = tokenizer(replies[min(turn, 1)], add_special_tokens=False)["input_ids"] + [eos]
            out.append(Generation(ids, [-0.25] * len(ids), True, 0.0))
        return out

    monkeypatch.setattr(LocalChatModel, "_generate_batch", scripted_generate)
    rollout = GraphRollout([question], world.video_path, toolbox, tokenizer, max_tool_calls=2,
                           max_new_tokens=32, temperature=1.0)
    (trajectory,) = rollout.rollout(tiny_llama(tokenizer), [question])
    ids, mask = trajectory.completion_ids, trajectory.model_mask
    assert len(ids) == len(mask) == len(trajectory.logprobs)
    runs, current = [], [ids[0]]
    for k in range(1, len(ids)):
        if mask[k] == mask[k - 1]:
            current.append(ids[k])
        else:
            runs.append((mask[k - 1], current))
            current = [ids[k]]
    runs.append((mask[-1], current))
    model_runs = [tokenizer.decode(r) for m, r in runs if m == 1]
    other_runs = [tokenizer.decode(r) for m, r in runs if m == 0]
    assert model_runs == [replies[0] + "<|im_end|>", replies[1] + "<|im_end|>"]  # the sampled tokens, nothing else
    assert len(other_runs) == 1  # the one observation turn between them, with its template tokens
    observation = other_runs[0]
    assert observation.startswith("\n<|im_start|>user\n<tool_response>")
    assert observation.endswith("</tool_response><|im_end|>\n<|im_start|>assistant\n")
    assert all(lp == -0.25 for lp, m in zip(trajectory.logprobs, mask) if m)
    assert all(lp == 0.0 for lp, m in zip(trajectory.logprobs, mask) if not m)
    assert trajectory.episode["tool_calls"] == 1 and trajectory.answer is not None


def test_rollouts_after_a_weight_update_use_the_new_weights(env):
    """The chat model (and its prompt-prefix cache) lives across GRPO steps; a cached prefix computed
    with old weights would make the recorded log-probs wrong after an update."""
    root, split, world, toolbox, tokenizer = env
    model = tiny_llama(tokenizer)
    questions = world.questions(split, 2)
    rollout = GraphRollout(questions, world.video_path, toolbox, tokenizer, max_tool_calls=1, max_new_tokens=6,
                           temperature=1.0)
    rollout.rollout(model, questions)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))  # an "optimizer step"
    trajectory = rollout.rollout(model, questions)[0]  # same batch size: the same chat model is reused
    ids = trajectory.prompt_ids + trajectory.completion_ids
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, len(trajectory.prompt_ids) - 1:-1]
    chosen = torch.log_softmax(logits, -1).gather(-1, torch.tensor(trajectory.completion_ids)[:, None]).squeeze(-1)
    recorded = torch.tensor(trajectory.logprobs)
    mask = torch.tensor(trajectory.model_mask, dtype=torch.bool)
    assert mask.any()
    assert torch.allclose(recorded[mask], chosen[mask], atol=1e-3)


def test_rollouts_are_asked_with_each_questions_own_toolbox(env, monkeypatch):
    from vidagent.policies.episodes import Mix, rollout_mix
    from vidagent.policies.toolbox_variation import Variation
    from vidagent.tasks.world.novel_tools import NOVEL_TRAIN, novel_questions

    root, split, world, toolbox, tokenizer = env
    novel = novel_questions(dict(world.world.truths), NOVEL_TRAIN, per_tool=1, seed=0)[:2]
    assert novel
    mix = Mix(paraphrase_share=1.0, variation=Variation(vary_share=1.0, rename=1.0))
    questions, toolboxes = rollout_mix(world.questions(split, 2), toolbox, mix, seed=5, novel=novel,
                                       novel_tools=[n.tool for n in NOVEL_TRAIN])
    assert set(toolboxes) == {q.id for q in questions}
    assert all(q.meta["tool"] in toolboxes[q.id].names for q in questions if q.family == "tool")

    def answer_at_once(self, prompts, **_):
        eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
        ids = tokenizer("<answer>1</answer>", add_special_tokens=False)["input_ids"] + [eos]
        return [Generation(ids, [-0.1] * len(ids), True, 0.0) for _ in prompts]

    monkeypatch.setattr(LocalChatModel, "_generate_batch", answer_at_once)
    rollout = GraphRollout(questions, world.video_path, toolbox, tokenizer, max_tool_calls=1, max_new_tokens=12,
                           temperature=1.0, toolboxes=toolboxes)
    trajectories = rollout.rollout(tiny_llama(tokenizer), questions)
    for question, trajectory in zip(questions, trajectories, strict=True):
        prompt = tokenizer.decode(trajectory.prompt_ids)
        assert all(name in prompt for name in toolboxes[question.id].names), question.id
        hidden = set(toolbox.names) - set(toolboxes[question.id].names)  # renamed default tools
        assert hidden and not any(f'"{name}"' in prompt for name in hidden), question.id
