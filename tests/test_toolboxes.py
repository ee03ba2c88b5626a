"""One way to build a toolbox for ask, train and eval: a tool profile (what the default tools perceive
with) plus the user's --tool tools, which then reach the planner's prompt in training and evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_planner import some_split, tiny_world
from vidagent.agent.chat_models.scripted import ScriptedChatModel
from vidagent.errors import ConfigError
from vidagent.policies.environment import WorldData, make_toolbox
from vidagent.policies.evaluate import evaluate_agent
from vidagent.tools import Toolbox, VideoSession, tool
from vidagent.tools.default_tools import DEFAULT_TOOL_NAMES
from vidagent.tools.profiles import profile_toolbox
from vidagent.tools.results import ActionResult, ScoredLabel, TimeSpan
from vidagent.tools.toolbox import load_tool_specs

REPO = Path(__file__).resolve().parents[1]
MOTION = str(REPO / "examples" / "custom_tool.py") + ":motion_energy"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> WorldData:
    return WorldData.load(tiny_world(tmp_path_factory.mktemp("world")))


def test_every_profile_has_the_default_tools_then_the_users(world: WorldData):
    extra = load_tool_specs([MOTION])
    for box in (profile_toolbox("world", extra), make_toolbox("world", world, extra),
                make_toolbox("world-truth", world, extra)):
        assert box.names == [*DEFAULT_TOOL_NAMES, "motion_energy"]
        assert "motion_energy(" in box.cards()


def test_unknown_and_renamed_profiles_say_what_to_use(world: WorldData):
    with pytest.raises(ConfigError, match="unknown tool profile 'pixels'") as error:
        make_toolbox("pixels", world)
    assert "world-truth" in error.value.fix
    with pytest.raises(ConfigError, match="renamed") as renamed:
        make_toolbox("oracle", world)
    assert renamed.value.fix == "use --tools world-truth"
    with pytest.raises(ConfigError, match="need a world"):
        make_toolbox("world-truth", None)


def test_a_user_tool_is_in_the_prompt_of_an_eval_row_and_can_be_called(world: WorldData):
    """The planner of an eval row sees the user's tool and its call runs (here, scripted)."""
    questions = world.questions(some_split(world.world.root))[:1]
    toolbox = make_toolbox("world-truth", world, load_tool_specs([MOTION]))
    chat = ScriptedChatModel.from_program([("motion_energy", {"start_s": 0.0, "end_s": 1.0})], "0")
    row = evaluate_agent("user tool", "scripted", chat, toolbox, questions, world.video_path, max_tool_calls=2,
                         concurrency=1)
    assert row.outcomes[0].tool_calls == 1 and row.crashed == 0.0


def test_a_crashing_tool_is_counted_as_a_crash_not_a_wrong_answer(world: WorldData):
    @tool
    def broken(video: VideoSession, start_s: float) -> ActionResult:
        """A tool with a bug.

        Args:
            start_s: Any time.
        """
        return ActionResult(TimeSpan(0, 1), None, [ScoredLabel("x", 1 / 0)])

    questions = world.questions(some_split(world.world.root))[:1]  # a scripted model plays one conversation
    chat = ScriptedChatModel.from_program([("broken", {"start_s": 0.0})], "0")
    row = evaluate_agent("crashy", "scripted", chat, Toolbox([broken]), questions, world.video_path,
                         max_tool_calls=2, concurrency=1)
    assert row.crashed == 1.0 and row.accuracy == 0.0 and all(o.crashed for o in row.outcomes)


def test_eval_command_takes_user_tools(world: WorldData, tmp_path: Path):
    from vidagent.cli import main

    out = tmp_path / "eval"
    assert main(["eval", "--world", str(world.world.root), "--suite", f"world:{some_split(world.world.root)}",
                 "--rows", "oracle", "--tools", "world-truth", "--tool", MOTION, "--out", str(out)]) == 0
    (row,) = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert row["accuracy"] == 1.0 and row["name"] == "oracle programs, world-truth tools"
    assert main(["eval", "--world", str(world.world.root), "--suite", f"world:{some_split(world.world.root)}",
                 "--rows", "oracle", "--tool", "no_such_module:thing", "--out", str(out)]) == 2


def test_a_user_tool_with_an_undocumented_argument_is_a_clear_cli_error(tmp_path: Path, capsys):
    from vidagent.cli import main

    source = tmp_path / "my_tools.py"
    source.write_text('''
from vidagent.tools import VideoSession, tool
from vidagent.tools.results import GroundingResult


def brightness(video: VideoSession, start_s: float, end_s: float) -> GroundingResult:
    """How bright the picture is.

    Args:
        start_s: Start of the span.
    """
''')
    assert main(["tools", "list", "--tool", f"{source}:brightness"]) == 2
    err = capsys.readouterr().err
    assert "does not describe ['end_s']" in err and "fix: document every argument" in err
