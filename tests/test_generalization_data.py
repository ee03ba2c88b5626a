"""The data that teaches the planner to generalize: held-out wordings, varied toolboxes, novel tools.

Behaviour checked: a paraphrase keeps everything but the words; the two wording sets share no content word;
an episode's prompt lists exactly the tools its replay calls (under their episode names); a novel tool
answers its questions through the oracle's calls; bad mix settings are refused with a fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from vidagent.errors import ConfigError, ToolError
from vidagent.policies.config import SFTConfig
from vidagent.policies.environment import WorldData, make_toolbox
from vidagent.policies.episodes import Mix, build_episodes, replay, training_questions
from vidagent.policies.trajectories import oracle_calls
from vidagent.policies.toolbox_variation import ALIASES, Variation, vary_toolbox
from vidagent.tasks.paraphrase import parse, paraphrase
from vidagent.tasks.questions import load_questions
from vidagent.tasks.verify import verify
from vidagent.tasks.world.novel_tools import NOVEL_HELDOUT, NOVEL_TRAIN, novel_questions
from vidagent.tasks.world.open_questions import KINDS, OPEN_FAMILIES, open_questions
from vidagent.tools.video import VideoSession

BUNDLE = Path(__file__).resolve().parents[1] / "examples" / "world"
# words any English wording needs (articles, pronouns, auxiliaries); everything else must differ
FUNCTION_WORDS = {"a", "an", "the", "of", "in", "on", "at", "to", "is", "are", "does", "do", "did", "it", "its",
                  "and", "or", "s", "what", "which", "how", "many", "when", "who", "there", "any", "first",
                  "before", "after", "video", "this", "that", "with", "from", "by", "for", "than", "one", "be",
                  "t", "seconds", "second", "between", "during", "answer"}


@pytest.fixture(scope="module")
def bundle():
    world = WorldData.load(BUNDLE)
    return world, make_toolbox("world-truth", world)


def test_every_bundled_question_parses_and_paraphrases_keep_all_but_the_words():
    questions = load_questions(BUNDLE / "questions.jsonl")
    assert all(parse(q.text) is not None for q in questions), [q.text for q in questions if parse(q.text) is None]
    for q in questions:
        for wording in ("train", "heldout"):
            p = paraphrase(q, wording, seed=3)
            assert p.text != q.text
            assert (p.id, p.answer, p.choices, p.program, p.family) == (q.id, q.answer, q.choices, q.program,
                                                                       q.family)
            assert p.meta["original_text"] == q.text and p.meta["paraphrase"] == wording
            assert paraphrase(q, wording, seed=3).text == p.text  # deterministic


def test_train_and_heldout_wordings_share_no_phrase():
    from vidagent.tasks.paraphrase import FRAMES, HINTS, MOMENTS, NOUNS, SPANS, VERB_PHRASES

    def phrases(wording):
        out = {f for frames in FRAMES[wording].values() for f in frames}
        out |= {p for phrases in VERB_PHRASES[wording].values() for p in phrases}
        out |= {n for cls, pairs in NOUNS[wording].items() for pair in pairs for n in pair if n not in (cls, cls + "s")}
        return out | set(MOMENTS[wording]) | set(SPANS[wording]) | set(HINTS[wording])

    assert not phrases("train") & phrases("heldout"), sorted(phrases("train") & phrases("heldout"))
    # the frames' words differ too, apart from what any English question needs and the world's own nouns
    frame_words = {w: {x.lower() for f in FRAMES[w].values() for t in f for x in re.findall(r"[A-Za-z]+",
                                                                                        re.sub(r"\{\w+\}", " ", t))}
                   for w in ("train", "heldout")}
    shared = frame_words["train"] & frame_words["heldout"] - FUNCTION_WORDS
    assert shared <= {"object", "objects", "time", "start", "end", "please", "total", "true", "number", "where",
                      "comes", "have", "contain", "every", "later", "view", "moment", "happen", "two", "up"}, sorted(shared)


def test_heldout_paraphrases_drop_the_template_phrases():
    questions = load_questions(BUNDLE / "questions.jsonl")
    rewritten = [paraphrase(q, "heldout", seed=0, noise=False) for q in questions]
    assert sum(parse(p.text) is None for p in rewritten) >= 0.9 * len(rewritten)  # no template matches them


def test_episode_prompts_list_exactly_the_tools_their_replay_calls(bundle):
    from tiny_planner import smollm2_tokenizer, tiny_llama
    from vidagent.agent.planner_loading import local_chat_model

    world, toolbox = bundle
    tokenizer = smollm2_tokenizer()
    chat = local_chat_model(tiny_llama(tokenizer), tokenizer)
    questions = world.questions("test", 40, require_program=True) + world.questions("train", 40)
    truths = dict(world.world.truths)
    novel = novel_questions(truths, NOVEL_TRAIN, per_tool=2, seed=1)
    mix = Mix(paraphrase_share=0.5, variation=Variation(vary_share=1.0, rename=0.5, describe=0.5))
    episodes, skipped = build_episodes(questions[:12], world.video_path, toolbox, mix, seed=4, novel=novel,
                                       novel_tools=[n.tool for n in NOVEL_TRAIN])
    assert not skipped and {e.kind for e in episodes} == {"world", "paraphrased", "novel"}
    aliases = {alias for names in ALIASES.values() for alias in names}
    renamed = [e for e in episodes if aliases & set(e.toolbox.names)]
    assert renamed, "vary_share=1, rename=0.5: some episode shows a default tool under another name"
    for episode in episodes:
        called = {name for name, _ in episode.calls}
        assert called <= set(episode.toolbox.names)  # every replayed call is a tool of this episode's card
        made = replay(episode, world.video_path(episode.question), chat, max_tool_calls=4)
        assert not isinstance(made, str), made
        cards = episode.toolbox.cards()
        for name in episode.toolbox.names:
            assert name in cards
        hidden = {n for n in toolbox.names if n not in episode.toolbox.names}
        for name in hidden:  # a renamed default tool's old name is nowhere on the card
            assert not re.search(rf"\b{name}\(", cards), (name, cards)
        assert [s.name for s in made.steps if s.kind == "tool"] == [n for n, _ in episode.calls]


def test_vary_toolbox_never_shows_held_out_tools_and_keeps_what_is_needed(bundle):
    _, toolbox = bundle
    rng = np.random.default_rng(0)
    needed = NOVEL_TRAIN[0].tool
    opaque = 0
    for _ in range(30):
        tools = vary_toolbox(list(toolbox), rng, Variation(vary_share=1.0), needed=[needed],
                             distractors=[n.tool for n in NOVEL_TRAIN])
        shown = tools.names.get(needed.name, needed.name)  # its own name or an opaque one
        assert shown in tools.toolbox.names
        assert tools.toolbox[shown].description == needed.description  # the card is the clue
        opaque += shown != needed.name
        assert not {n.name for n in NOVEL_HELDOUT} & set(tools.toolbox.names)
        assert len(tools.toolbox.names) <= len(toolbox.names) + 1 + Variation().max_distractors
    assert 0 < opaque < 30


def _read_answer(q, readings: list[str]):
    """The answer a reader of the tools' output gives (what the planner must do), per novel tool."""
    first = readings[0]
    if q.meta["tool"] == "object_speed":
        if len(readings) == 2:
            speeds = [float(re.search(r"moves at (\d+) px/s", r).group(1)) for r in readings]
            return q.choices[speeds.index(max(speeds))]
        return re.search(r"\((fast|slow)\)", first).group(1)
    if q.meta["tool"] in ("count_collisions", "count_entrances"):
        return int(first.split()[0])
    if q.meta["tool"] == "time_on_screen":
        return int(re.search(r"visible for about (\d+) s", first).group(1))
    if q.meta["tool"] == "picture_noise":
        return "yes" if first.endswith("grainy") else "no"
    if q.meta["tool"] == "list_scenery":
        kind = re.search(r"(post|tree|bush)", q.text).group(1)
        return "yes" if kind in first.split(": ")[1].split(", ") else "no"
    if q.meta["tool"] == "motion_direction":
        return re.search(r"travels (left|right)", first).group(1)
    if q.meta["tool"] == "vertical_position":  # the higher of two: the smaller mean y
        ys = [float(re.search(r"mean y (\d+)", r).group(1)) for r in readings]
        return q.choices[ys.index(min(ys))]
    if q.meta["tool"] == "time_together":
        return int(re.search(r"(\d+) s\b", first.split(" (")[0]).group(1))
    if q.meta["tool"] == "busiest_moment":
        start, end = re.search(r"from ([\d.]+) s to ([\d.]+) s", first).groups()
        return [float(start), float(end)]
    if q.meta["tool"] == "closest_approach":
        return "yes" if first.endswith("(near)") else "no"
    if q.meta["tool"] == "biggest_on_screen":
        return re.search(r"biggest: (the \w+ \w+)", first).group(1)
    return first.split()[-1].rstrip(".")  # scene_type, lighting_level, object_size: the reading's last word


@pytest.mark.parametrize("novel", NOVEL_TRAIN + NOVEL_HELDOUT, ids=lambda n: n.name)
def test_a_novel_tool_answers_its_questions_through_the_oracle_calls(bundle, novel):
    world, _ = bundle
    questions = novel_questions(dict(world.world.truths), (novel,), per_tool=5, seed=2)
    assert questions, f"{novel.name}: no question over the bundle"
    for q in questions:
        assert q.family == "tool" and q.meta["tool"] == novel.name
        session = VideoSession(world.video_path(q))
        readings = []
        for name, args in q.meta["calls"]:
            assert name == novel.name
            result = novel.tool(session, **args)
            readings.append(result.render())
            cited = result.evidence()  # the span it measured; an object's reading also its track
            assert cited.spans and all(0 <= s.start_s <= s.end_s <= session.ref.duration_s + 1e-6 for s in cited.spans)
            if "object_class" in args:
                assert len(cited.track_ids) == 1
        answer = _read_answer(q, [r.split(" (gain")[0] for r in readings])
        assert verify(q, answer).correct, (q.text, q.answer, readings)


def test_a_novel_tool_on_a_video_without_ground_truth_says_so(tiny_video):
    with pytest.raises(ToolError, match="ground truth"):
        NOVEL_HELDOUT[1].tool(VideoSession(str(tiny_video)))


@pytest.mark.parametrize(("field", "value"), [("paraphrase_share", 1.5), ("vary_tools", -0.1),
                                              ("novel_per_tool", -1), ("open_per_family", -2)])
def test_sft_config_refuses_a_bad_mix(tmp_path, field, value):
    with pytest.raises(ConfigError) as error:
        SFTConfig(world="w", out=str(tmp_path), **{field: value})
    assert error.value.fix


def test_world_paraphrase_and_novel_commands_write_question_files(tmp_path, capsys):
    from vidagent.cli import main

    out = tmp_path / "heldout.jsonl"
    assert main(["world", "paraphrase", "--world", str(BUNDLE), "--split", "test", "--limit", "5",
                 "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5 and all(r["meta"]["paraphrase"] == "heldout" for r in rows)
    novel = tmp_path / "novel.jsonl"
    assert main(["world", "novel", "--world", str(BUNDLE), "--split", "test", "--per-tool", "2",
                 "--out", str(novel)]) == 0
    assert "--tool vidagent.tasks.world.novel_tools:motion_direction" in capsys.readouterr().out
    assert {q.meta["tool"] for q in load_questions(novel)} <= {n.name for n in NOVEL_HELDOUT}
    opened = tmp_path / "open.jsonl"
    assert main(["world", "open", "--world", str(BUNDLE), "--split", "train", "--per-family", "3",
                 "--out", str(opened)]) == 0
    assert {q.family for q in load_questions(opened)} <= set(OPEN_FAMILIES)


def test_open_questions_are_answered_by_their_programs_on_the_default_tools(bundle):
    world, toolbox = bundle
    questions = open_questions(world.world.truths, per_family=10, seed=1)
    assert {q.family for q in questions} == set(OPEN_FAMILIES)
    assert len({q.id for q in questions}) == len(questions)
    for q in questions:
        calls, answer = oracle_calls(q, toolbox, VideoSession(world.video_path(q)))
        assert verify(q, answer).correct, (q.text, q.answer, answer)
        if q.family == "object":  # the one kind in view, found without a class filter
            assert calls[0][0] == "detect_objects" and "classes" not in calls[0][1]
            assert q.answer in KINDS["animal"] + KINDS["vehicle"]
        else:
            assert calls[0][0] == "describe_frame" and q.answer in q.choices == ["left", "center", "right"]


def test_training_draws_open_questions_only_when_asked(bundle):
    world, _ = bundle
    without = training_questions(world, "train", 8, novel_per_tool=1, seed=0)
    with_open = training_questions(world, "train", 8, novel_per_tool=1, open_per_family=2, seed=0)
    assert not {q.family for q in without.questions} & set(OPEN_FAMILIES)
    assert with_open.questions[:len(without.questions)] == without.questions
    assert {q.family for q in with_open.questions[len(without.questions):]} <= set(OPEN_FAMILIES)
    assert without.novel == with_open.novel and without.novel_tools == with_open.novel_tools


def test_recovery_episodes_show_the_error_and_train_only_the_fix(bundle):
    from tiny_planner import smollm2_tokenizer, tiny_llama
    from vidagent.agent.planner_loading import local_chat_model

    world, toolbox = bundle
    tokenizer = smollm2_tokenizer()
    chat = local_chat_model(tiny_llama(tokenizer), tokenizer)
    questions = world.questions("train", 6)
    mix = Mix(paraphrase_share=0.0, recovery_share=1.0, variation=Variation(vary_share=1.0, rename=1.0))
    episodes, skipped = build_episodes(questions, world.video_path, toolbox, mix, seed=2)
    assert not skipped and all(e.recovery for e in episodes)
    for episode in episodes:
        made = replay(episode, world.video_path(episode.question), chat)
        assert not isinstance(made, str), made
        steps = [s for s in made.steps if s.kind == "tool"]
        assert not steps[0].ok and all(s.ok for s in steps[1:])  # the mistake failed, the rest ran
        assert steps[0].text.startswith("Error")
        trained = tokenizer.decode([i for i, m in zip(made.completion_ids, made.model_mask, strict=True) if m])
        mistaken, fixed = episode.calls[0][0], episode.calls[1][0]
        assert f'"{fixed}"' in trained  # the corrected call is a target
        if mistaken != fixed:
            assert f'"{mistaken}"' not in trained  # the mistake is not
        # the mistake and its error are in the context the fix is trained on
        assert "Error" in tokenizer.decode(made.completion_ids)


def test_a_replay_whose_calls_exceed_the_budget_is_skipped_with_a_reason(bundle):
    world, toolbox = bundle
    (question,) = world.questions("train", 1)
    episodes, _ = build_episodes([question], world.video_path, toolbox, Mix(paraphrase_share=0.0))
    episode = episodes[0]
    episode.calls = episode.calls * 5
    assert "do not fit --max-tool-calls 2" in replay(episode, world.video_path(question), None, max_tool_calls=2)
