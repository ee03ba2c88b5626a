"""The planner graph driven by a scripted model over fake tools: the loop, budgets and every way a model
or a tool can go wrong."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from vidagent.agent import Agent, ScriptedChatModel
from vidagent.agent.graph import route_after_planner
from vidagent.agent.parsing import format_answer, format_tool_call
from vidagent.agent.prompts import LAST_TURN_MESSAGE, NO_ACTION_TEMPLATE, TOOL_BUDGET_TEMPLATE, tool_named_by
from vidagent.agent.state import Budget
from vidagent.errors import ConfigError, ToolError
from vidagent.tools import Toolbox, VideoSession, tool
from vidagent.tools.base import ARGUMENT_ERROR_TEMPLATE, TOOL_ERROR_TEMPLATE, UNKNOWN_TOOL_TEMPLATE
from vidagent.tools.results import Box, Evidence, TimeSpan, ToolResult


@dataclass
class CountResult(ToolResult):
    span: TimeSpan
    label: str
    n: int

    def render(self) -> str:
        return f"{self.n} {self.label} in {self.span}."

    def evidence(self) -> Evidence:
        mid = (self.span.start_s + self.span.end_s) / 2
        return Evidence(spans=[self.span], boxes=[Box(mid, 10, 10, 50, 50, self.label, 7)], track_ids=[7])


@tool
def count_objects(video: VideoSession, start_s: float, end_s: float, label: str = "dog") -> CountResult:
    """Count objects of a class in a time span.

    Args:
        start_s: Start in seconds.
        end_s: End in seconds.
        label: The class to count.
    """
    frames = video.sample(start_s, end_s, count=4)
    return CountResult(TimeSpan(start_s, end_s), label, 2 if len(frames) else 0)


@tool
def broken_tool(video: VideoSession, t_s: float) -> CountResult:
    """A tool that always fails.

    Args:
        t_s: A time.
    """
    raise ToolError("the detector weights are missing", "train them")


@tool
def greedy_tool(video: VideoSession, start_s: float, end_s: float) -> CountResult:
    """Looks at every frame.

    Args:
        start_s: Start.
        end_s: End.
    """
    video.sample(start_s, end_s, fps=10)
    return CountResult(TimeSpan(start_s, end_s), "frame", 1)


TOOLS = [count_objects, broken_tool, greedy_tool]
COUNT = format_tool_call("count_objects", {"start_s": 0, "end_s": 4})


def ask(video, replies, question="How many dogs?", **kwargs):
    model = ScriptedChatModel(replies=replies, repeat_last=kwargs.pop("repeat_last", False))
    ask_options = kwargs.pop("ask", {})
    agent = Agent(planner=model, tools=TOOLS, **kwargs)
    return agent.ask(video, question, **ask_options), model


def observations(result):
    return [m.content for m in result.messages if isinstance(m, ToolMessage)]


def test_happy_path_answer_evidence_sources_and_stats(tiny_video):
    result, _ = ask(tiny_video, ["Count the dogs first.\n" + COUNT, format_answer("2")])
    assert result.answered and result.stop_reason.startswith("answered")
    assert result.answer.value == 2 and result.answer.answer_type == "number"
    tool_step = result.tool_steps[0]
    assert result.answer.sources == [tool_step.id]
    assert result.evidence.track_ids == [7] and result.evidence.spans == [TimeSpan(0.0, 4.0)]
    assert result.evidence.boxes[0].label == "dog"
    assert tool_step.result is not None and tool_step.result.n == 2  # the typed result is kept in the trace
    assert [s.kind for s in result.trace] == ["plan", "tool", "plan", "final"]
    assert result.trace[0].text == "Count the dogs first."
    stats = result.stats
    assert (stats.tool_calls, stats.tool_errors, stats.llm_calls, stats.frames_seen) == (1, 0, 2, 4)
    assert stats.prompt_tokens > 0 and stats.completion_tokens > 0 and "count_objects" in stats.tool_seconds
    assert "1 tool calls" in stats.line()


def test_malformed_json_gets_an_error_observation_and_the_model_retries(tiny_video):
    result, _ = ask(tiny_video, ['<tool_call>{"name": "count_objects", "arguments": {"start_s": 0,</tool_call>',
                                 COUNT, format_answer("2")])
    first = observations(result)[0]
    assert first.startswith("Error: could not read your tool call: invalid JSON")
    assert result.answered and result.answer.value == 2
    assert result.stats.tool_calls == 1  # an unreadable call runs nothing


def test_unknown_tool(tiny_video):
    result, _ = ask(tiny_video, [format_tool_call("count_cats", {}), COUNT, format_answer("2")])
    expected = UNKNOWN_TOOL_TEMPLATE.format(name="count_cats", available="count_objects, broken_tool, greedy_tool")
    assert observations(result)[0] == expected
    assert result.answered and not result.tool_steps[0].ok


def test_wrong_argument_types(tiny_video):
    bad = format_tool_call("count_objects", {"start_s": "soon", "end_s": 4})
    result, _ = ask(tiny_video, [bad, COUNT, format_answer("2")])
    first = observations(result)[0]
    prefix = ARGUMENT_ERROR_TEMPLATE.split("{details}")[0].format(tool="count_objects")
    assert first.startswith(prefix) and "start_s" in first
    assert result.answered and result.stats.tool_errors == 1


def test_a_failing_tool_is_an_observation_not_a_crash(tiny_video):
    result, _ = ask(tiny_video, [format_tool_call("broken_tool", {"t_s": 1.0}), COUNT, format_answer("2")])
    expected = TOOL_ERROR_TEMPLATE.format(tool="broken_tool", message="the detector weights are missing")
    assert observations(result)[0] == expected
    assert result.answered
    assert result.answer.sources == [result.tool_steps[1].id]  # the failed call is not evidence


def test_a_model_that_never_answers_stops_at_the_llm_budget(tiny_video):
    result, model = ask(tiny_video, ["I am thinking about dogs."], repeat_last=True, max_tool_calls=2)
    assert not result.answered and result.answer is None
    assert "without writing <answer>" in result.stop_reason and "5 LLM calls" in result.stop_reason
    assert model.calls_made == Budget(max_tool_calls=2).llm_calls == 5
    nudges = [m.content for m in result.messages if isinstance(m, HumanMessage)][1:]
    example = format_tool_call("count_objects", {"start_s": 0.0, "end_s": 10.0})
    assert nudges == [NO_ACTION_TEMPLATE.format(example=example)] * 3 + [LAST_TURN_MESSAGE]


def test_the_tool_budget_warns_once_then_stops(tiny_video):
    result, model = ask(tiny_video, [COUNT], repeat_last=True, max_tool_calls=2)
    assert not result.answered
    assert "tool-call budget (2 calls) was used up" in result.stop_reason
    texts = observations(result)
    assert texts[2] == TOOL_BUDGET_TEMPLATE.format(used=2, limit=2, name="count_objects")
    assert result.stats.tool_calls == 2 and model.calls_made == 4


def test_after_the_budget_warning_the_model_may_still_answer(tiny_video):
    result, _ = ask(tiny_video, [COUNT, COUNT, format_answer("2")], max_tool_calls=1)
    assert result.answered and result.answer.value == 2
    assert "budget is used up" in observations(result)[1]


def test_the_last_turn_is_announced(tiny_video):
    result, _ = ask(tiny_video, [COUNT, format_answer("2")], max_tool_calls=1, max_llm_calls=2)
    humans = [m.content for m in result.messages if isinstance(m, HumanMessage)]
    assert humans[-1] == LAST_TURN_MESSAGE and result.answered


def test_frame_budget_thins_then_runs_out(tiny_video):
    """50 frames, then the 10 left (the observation says so), then an error: a budget never fails a call
    that it can still partly serve."""
    result, _ = ask(tiny_video, [format_tool_call("greedy_tool", {"start_s": 0, "end_s": 5})],
                    repeat_last=True, max_tool_calls=3, frame_budget=60)
    texts = observations(result)
    assert not texts[0].startswith(("Error", "Note"))
    assert texts[1].startswith("Note: looked at 10 of the 50 frames asked for 0.0-5.0s: the frame budget (60)")
    assert "frame budget exhausted" in texts[2]
    assert not result.answered and "frame budget (60 frames) ran out" in result.stop_reason
    assert result.stats.frames_seen == 60


def test_the_model_sees_observations(tiny_video):
    seen = []

    def second(messages):
        seen.append(messages[-1].content)
        return format_answer("two")

    result, _ = ask(tiny_video, [COUNT, second])
    assert seen == ["2 dog in 0.0-4.0s."]
    assert result.answer.value == 2  # "two" read as a number


def test_typed_answers(tiny_video):
    result, _ = ask(tiny_video, [COUNT, format_answer("1.5 to 3.5")], question="When?",
                    ask={"answer_type": "interval"})
    assert result.answer.value == [1.5, 3.5]
    assert result.answer.evidence.spans[0] == TimeSpan(1.5, 3.5)
    model = ScriptedChatModel(replies=[format_answer("B")])
    agent = Agent(planner=model, tools=TOOLS)
    result = agent.ask(tiny_video, "Which color?", choices=["red", "blue"])
    assert result.answer.value == "blue" and result.answer.answer_type == "choice"
    assert "B) blue" in result.messages[0].content


def test_an_unreadable_answer_keeps_its_text_and_says_why(tiny_video):
    result, _ = ask(tiny_video, [format_answer("many")], ask={"answer_type": "number"}, repeat_last=True,
                    max_llm_calls=3)
    assert result.answered and result.answer.value is None and "no number" in result.answer.problem
    notices = [s.text for s in result.trace if s.kind == "notice"]
    assert len(notices) == 1 and '"many" is not a number' in notices[0]  # said once; the same answer then stands
    assert result.stats.llm_calls == 2


def test_an_answer_that_is_no_option_is_sent_back_with_the_options(tiny_video):
    model = ScriptedChatModel(replies=[COUNT, format_answer("no"), format_answer("blue")])
    result = Agent(planner=model, tools=TOOLS).ask(tiny_video, "Which color?", choices=["red", "blue"])
    notices = [s.text for s in result.trace if s.kind == "notice"]
    assert notices == ['Error: "no" is not one of the options: A) red; B) blue. Read the tool results again '
                       'and write the answer as one of the options: A) red; B) blue, between <answer> and </answer>.']
    assert result.answer.value == "blue" and result.stats.tool_calls == 1


def test_a_number_question_answered_in_words_gets_one_more_try(tiny_video):
    result, _ = ask(tiny_video, [COUNT, format_answer("nothing"), format_answer("2")], ask={"answer_type": "number"})
    assert result.answer.value == 2 and sum(s.kind == "notice" for s in result.trace) == 1
    result, _ = ask(tiny_video, [format_answer("two")], ask={"answer_type": "number"})  # a number word fits
    assert result.answer.value == 2 and not any(s.kind == "notice" for s in result.trace)
    result, _ = ask(tiny_video, [format_answer("a dog")])  # no type asked: nothing to correct
    assert result.answer.text == "a dog"


def test_yes_or_no_to_a_what_question_and_the_asked_time_as_a_count_are_sent_back(tiny_video):
    result, _ = ask(tiny_video, [COUNT, format_answer("no"), format_answer("red")],
                    question="What color is the car?")
    notices = [s.text for s in result.trace if s.kind == "notice"]
    assert len(notices) == 1 and 'answers a yes/no question, but this question asks what...' in notices[0]
    assert result.answer.text == "red"
    result, _ = ask(tiny_video, [COUNT, format_answer("40"), format_answer("40")], ask={"answer_type": "number"},
                    question="How many people are visible at 40 s?")
    notices = [s.text for s in result.trace if s.kind == "notice"]
    assert notices == ["Error: 40 is the time the question names (40 s), not a count. Count what the tool results "
                       "show at that time and write that number between <answer> and </answer>."]
    assert result.answer.value == 40  # said once; the same count again stands
    result, _ = ask(tiny_video, [format_answer("yes")], question="Is there a car?")  # a yes/no question
    assert result.answer.text == "yes" and not any(s.kind == "notice" for s in result.trace)


def test_a_yes_no_question_answered_with_something_else_gets_one_more_try(tiny_video):
    result, _ = ask(tiny_video, [COUNT, format_answer("stand"), format_answer("Yes.")], ask={"answer_type": "label"},
                    question="Is there a microphone in front of the man at 40 s?")
    notices = [s.text for s in result.trace if s.kind == "notice"]
    assert notices == ['Error: "stand" is no answer to a yes/no question. Read the tool results again and answer '
                       'yes or no, between <answer> and </answer>.']
    assert result.answer.text == "Yes."
    from vidagent.agent.prompts import answer_shape_message

    assert answer_shape_message("black and white", "label", None, "Is the video in color or in black and white?") is None
    assert answer_shape_message("no one", "label", None, "Who is at the door?") is None
    assert answer_shape_message("No, it is red.", "label", None, "What color is it?") is not None


def test_answer_shape_message_reads_as_the_scorer_reads():
    from vidagent.agent.prompts import answer_shape_message

    assert answer_shape_message("2.0 to 4.5", "interval", None) is None
    assert "a time span in seconds" in answer_shape_message("no", "interval", None)
    assert answer_shape_message("B", None, ["red", "blue"]) is None
    assert answer_shape_message("the red one", None, ["red", "blue"]) is None
    assert answer_shape_message("no", "label", None) is None


def test_stream_yields_steps_then_the_result(tiny_video):
    agent = Agent(planner=ScriptedChatModel(replies=[COUNT, format_answer("2")]), tools=TOOLS)
    items = list(agent.stream(tiny_video, "How many dogs?"))
    assert [type(i).__name__ for i in items] == ["Step", "Step", "Step", "Step", "Result"]


def test_router_is_pure():
    from langchain_core.messages import AIMessage

    state = {"messages": [AIMessage("", tool_calls=[{"name": "a", "args": {}, "id": "1"}])], "llm_calls": 1,
             "tool_calls": 0, "budget": Budget(max_tool_calls=1).to_dict(), "answer_text": None}
    assert route_after_planner(state) == "tools"
    assert route_after_planner({**state, "answer_text": "2"}) == "finalize"
    assert route_after_planner({**state, "llm_calls": 4}) == "finalize"
    assert route_after_planner({**state, "tool_calls": 1, "budget_notices": 1}) == "finalize"
    assert route_after_planner({**state, "messages": [AIMessage("hmm")]}) == "planner"


def test_budget_validation_and_recursion_limit():
    with pytest.raises(ConfigError):
        Budget(max_tool_calls=-1)
    assert Budget(max_tool_calls=8).llm_calls == 11
    assert Budget(max_tool_calls=8).recursion_limit() >= 2 * 11 + 2


def test_a_long_run_stays_within_the_recursion_limit(tiny_video):
    result, model = ask(tiny_video, [COUNT], repeat_last=True, max_tool_calls=30, frame_budget=None)
    # 30 calls, one more refused with a warning, one more ignoring it: stop
    assert model.calls_made == 32 and result.stats.tool_calls == 30 and not result.answered


def test_bad_answer_type_is_a_config_error(tiny_video):
    with pytest.raises(ConfigError):
        ask(tiny_video, [format_answer("2")], ask={"answer_type": "float"})


def test_an_empty_answer_is_no_answer(tiny_video):
    result, _ = ask(tiny_video, [format_answer("..."), format_answer("2")])
    assert result.answered and result.answer.value == 2 and result.stats.llm_calls == 2


@tool
def slow_tool(video: VideoSession, t_s: float) -> CountResult:
    """Takes a quarter of a second.

    Args:
        t_s: A time.
    """
    import time

    time.sleep(0.25)
    return CountResult(TimeSpan(t_s, t_s), "dog", 1)


SLOW = format_tool_call("slow_tool", {"t_s": 1.0})


def ask_slow(video, replies, **kwargs):
    model = ScriptedChatModel(replies=replies, repeat_last=True)
    agent = Agent(planner=model, tools=[slow_tool, count_objects], **kwargs)
    return agent, model


def test_timeout_stops_before_the_next_step_and_says_so(tiny_video):
    agent, model = ask_slow(tiny_video, [SLOW], timeout_s=0.6, max_tool_calls=20)
    result = agent.ask(tiny_video, "How many dogs?")
    assert not result.answered
    assert "time budget (0.6 s) ran out" in result.stop_reason
    ran = [s for s in result.tool_steps if s.ran]
    assert 1 <= len(ran) <= 3 and model.calls_made <= 4  # not the 20-call tool budget
    assert result.stats.seconds < 0.6 + 0.5  # overran by at most one step


def test_calls_after_the_deadline_are_not_run(tiny_video):
    two = SLOW + "\n" + SLOW.replace('"t_s": 1.0', '"t_s": 2.0')
    agent, _ = ask_slow(tiny_video, [two, format_answer("1")], timeout_s=0.1)
    result = agent.ask(tiny_video, "How many dogs?")
    skipped = [s for s in result.tool_steps if not s.ran]
    assert [s.ran for s in result.tool_steps] == [True, False] and "time budget" in skipped[0].text
    assert not result.answered and "ran out after 1 LLM calls and 1 tool calls" in result.stop_reason


def test_a_per_question_timeout_overrides_the_agent_and_an_answer_in_time_is_kept(tiny_video):
    agent, _ = ask_slow(tiny_video, [SLOW, format_answer("1")], timeout_s=0.05)
    result = agent.ask(tiny_video, "How many dogs?", timeout_s=30)
    assert result.answered and result.answer.value == 1


def test_bad_timeouts_and_a_choice_question_without_options_are_config_errors(tiny_video):
    with pytest.raises(ConfigError, match="timeout must be > 0"):
        Budget(timeout_s=0)
    agent, _ = ask_slow(tiny_video, [format_answer("a")])
    with pytest.raises(ConfigError, match="needs the options"):
        agent.ask(tiny_video, "Which one?", answer_type="choice")


def test_an_identical_failed_call_is_not_run_again_and_the_model_is_told_to_change_it(tiny_video):
    from vidagent.agent.graph import REPEATED_FAILURE_TEMPLATE

    broken = format_tool_call("broken_tool", {"t_s": 1.0})
    result, _ = ask(tiny_video, [broken, broken, format_tool_call("broken_tool", {"t_s": 2.0}), COUNT,
                                 format_answer("2")])
    ran = [s.ran for s in result.tool_steps]
    assert ran == [True, False, True, True]  # the repeat is refused, other arguments run
    second = observations(result)[1]
    assert second.startswith(REPEATED_FAILURE_TEMPLATE.split("{name}")[0]) and "detector weights" in second
    assert "Change the arguments or call another tool" in second
    assert result.stats.tool_calls == 3 and result.answered


@tool
def picky_count(video: VideoSession, start_s: float, end_s: float, label: str | None = None) -> CountResult:
    """Count objects of a known class in a time span (every class without one).

    Args:
        start_s: Start in seconds.
        end_s: End in seconds.
        label: The class to count: dog or cat.
    """
    if label not in (None, "dog", "cat"):
        raise ToolError(f"unknown class {label!r}", "use dog or cat, or omit label")
    return CountResult(TimeSpan(start_s, end_s), label or "animal", 3)


def test_the_same_failed_call_again_runs_without_its_optional_arguments(tiny_video):
    from vidagent.agent.graph import RELAXED_CALL_TEMPLATE

    dragons = format_tool_call("picky_count", {"start_s": 0, "end_s": 4, "label": "dragon"})
    model = ScriptedChatModel(replies=[dragons, dragons, dragons, format_answer("3")])
    result = Agent(planner=model, tools=[picky_count]).ask(tiny_video, "How many animals?")
    assert [s.ran for s in result.tool_steps] == [True, True, True]  # relaxed each time it is repeated
    relaxed = observations(result)[1]
    assert relaxed.startswith(RELAXED_CALL_TEMPLATE.split("{name}")[0]) and "run without label instead" in relaxed
    assert relaxed.endswith("3 animal in 0.0-4.0s.") and result.tool_steps[1].arguments == {"start_s": 0.0, "label": None,
                                                                                                "end_s": 4.0}
    assert observations(result)[2] == relaxed
    assert result.answer.value == 3
    broken = format_tool_call("broken_tool", {"t_s": 1.0})  # nothing optional to drop: refused as before
    result, _ = ask(tiny_video, [broken, broken, format_answer("2")])
    assert [s.ran for s in result.tool_steps] == [True, False]


def test_an_answer_that_names_a_tool_is_sent_back_to_call_it(tiny_video):
    result, _ = ask(tiny_video, [format_answer("Count objects"), COUNT, format_answer("2")])
    notices = [s.text for s in result.trace if s.kind == "notice"]
    assert notices and '"Count objects" is the name of the tool count_objects' in notices[0]
    assert '<tool_call>{"name": "count_objects"' in notices[0]
    assert result.answered and result.answer.value == 2 and result.stats.tool_calls == 1


@pytest.mark.parametrize("said", ["count_objectz", "COUNT-OBJECTS", "`count_objects`"])
def test_tool_names_are_recognised_through_case_and_typos(said):
    schemas = Toolbox(TOOLS).schemas()
    assert tool_named_by(said, schemas)["name"] == "count_objects"
    assert tool_named_by("2", schemas) is None and tool_named_by("dog", schemas) is None


def test_a_tool_name_on_the_last_turn_stays_the_answer(tiny_video):
    result, _ = ask(tiny_video, [format_answer("count_objects")], max_tool_calls=0, max_llm_calls=1)
    assert result.answered and result.answer.text == "count_objects"
