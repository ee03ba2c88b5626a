"""SFT cold start: loss on the planner's own tokens only, and 4 trajectories are learnable."""

from __future__ import annotations

import pytest
from tiny_planner import smollm2_tokenizer, some_split, tiny_llama, tiny_world

from vidagent.agent.planner_loading import local_chat_model
from vidagent.policies.config import SFTConfig
from vidagent.policies.environment import WorldData, make_toolbox
from vidagent.policies.sft import batch_loss, sequence_loss, train_sft
from vidagent.policies.trajectories import oracle_trajectories


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
    return root, split, tokenizer, model, trajectories


def test_targets_are_only_the_planners_own_tokens(setup):
    _, _, tokenizer, model, trajectories = setup
    for t in trajectories:
        targets = [tok for tok in t.labels if tok != -100]
        assert len(targets) == sum(t.model_mask) > 0
        text = tokenizer.decode(targets)
        assert "<tool_call>" in text and "<answer>" in text
        for context in ("<tool_response>", "Question:", "You answer questions", "<|im_start|>"):
            assert context not in text
        observation = tokenizer.decode([tok for tok, m in zip(t.completion_ids, t.model_mask) if not m])
        assert "<tool_response>" in observation
        # the loss counts exactly the masked tokens
        _, counted = sequence_loss(model, t)
        assert counted == sum(t.model_mask)


def test_sft_on_four_trajectories_lowers_the_loss(setup, tmp_path):
    root, split, tokenizer, model, trajectories = setup
    before = batch_loss(model, trajectories, backward=False)
    config = SFTConfig(world=str(root), split=split, questions=4, out=str(tmp_path / "sft"), lora_r=0,
                       learning_rate=1e-2, epochs=5, batch_size=2, save_steps=4)
    result = train_sft(config, model=model, tokenizer=tokenizer, trajectories=trajectories, log=lambda _: None)
    after = batch_loss(model, trajectories, backward=False)
    assert result.steps == 10
    assert after < 0.7 * before, (before, after)
    assert (tmp_path / "sft" / "config.json").is_file()  # a loadable full model directory
    assert (tmp_path / "sft" / "sft_loss.png").is_file()
    assert (tmp_path / "sft" / "checkpoints" / "step-10" / "state.json").is_file()


def test_sft_resume_continues_from_the_saved_step(setup, tmp_path):
    root, split, tokenizer, _, trajectories = setup
    out = tmp_path / "sft"
    common = dict(world=str(root), split=split, questions=4, out=str(out), lora_r=4, lora_alpha=8,
                  learning_rate=1e-3, batch_size=2, save_steps=2)
    train_sft(SFTConfig(**common, epochs=1), model=tiny_llama(tokenizer), tokenizer=tokenizer,
              trajectories=trajectories, log=lambda _: None)
    lines: list[str] = []
    train_sft(SFTConfig(**common, epochs=2, resume=True), model=tiny_llama(tokenizer), tokenizer=tokenizer,
              trajectories=trajectories, log=lines.append)
    assert "resuming at step 2" in lines[0]
    steps = [line.split()[1] for line in lines[1:] if line.startswith("step")]
    assert steps == ["3/4", "4/4"]
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
