"""The planner graph: ``start`` -> ``planner`` <-> ``tools`` -> ``finalize``.

    START -> start -> planner -+-> tools -> planner        (the model asked for tools)
                               +-> planner                  (no call, no answer: corrected and asked again)
                               +-> finalize -> END          (an answer, or a budget ran out)

Nodes are small functions over ``AgentState``; the routers are pure functions of the state. The video is
bound to the run (``config["configurable"]["video_session"]``), never passed by the model.

The tool node is our own rather than LangGraph's prebuilt ``ToolNode`` because it has to enforce the
tool-call budget, count frames per call and turn unreadable calls (``invalid_tool_calls``) into error
observations. Its error policy is ``ToolNode``'s: mistakes the model can fix are ``status="error"``
observations, a bug in a tool raises. Each ``ToolMessage`` carries its typed result as the artifact (the
``ToolCall``); a checkpointer stores artifacts as plain data.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from vidagent.agent.answer import build_answer, evidence_to_dict
from vidagent.agent.chat_models.base import TextFormatChatModel, message_from_parsed, message_text
from vidagent.agent.chat_models.langchain_api import is_remote, planner_failure
from vidagent.agent.followup import PreviousTurn, resolve_followup
from vidagent.agent.parsing import MALFORMED_CALL_TEMPLATE, parse_reply
from vidagent.agent.prompts import (
    LAST_TURN_MESSAGE,
    TOOL_BUDGET_TEMPLATE,
    answer_is_tool_message,
    answer_shape_message,
    no_action_message,
    system_prompt,
    tool_named_by,
    user_message,
)
from vidagent.agent.state import AgentInput, AgentState, Budget, InputError, budget_of, check_input
from vidagent.errors import ConfigError, VidagentError, VideoError
from vidagent.tools.results import Evidence
from vidagent.tools.toolbox import Toolbox
from vidagent.tools.video import VideoRef, VideoSession

FRAME_BUDGET_MARK = "frame budget exhausted"
UNREADABLE = "(unreadable call)"  # the trace's name for a call without a readable tool name


def build_graph(model: BaseChatModel, toolbox: Toolbox, *, checkpointer: Any = None, name: str = "vidagent"):
    """Compile the planner graph for ``model`` over ``toolbox``.

    Text-format models (``TextFormatChatModel``: local, scripted) get the tool cards in the system prompt;
    any other LangChain chat model gets them with ``bind_tools``.
    """
    native = not isinstance(model, TextFormatChatModel)
    planner_model = bind_toolbox(model, toolbox) if native and len(toolbox) else model
    system = planner_system_message(model, toolbox)

    graph = StateGraph(AgentState, input_schema=AgentInput)
    graph.add_node("start", start_node)
    graph.add_node("planner", make_planner_node(planner_model, system, no_action_message(toolbox.schemas()),
                                                remote=is_remote(model), whole_thread=native,
                                                tool_schemas=toolbox.schemas()))
    graph.add_node("tools", make_tool_node(toolbox))
    graph.add_node("finalize", finalize_node)
    graph.add_edge(START, "start")
    graph.add_edge("start", "planner")
    graph.add_conditional_edges("planner", route_after_planner, ["tools", "planner", "finalize"])
    graph.add_edge("tools", "planner")
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer, name=name)


def bind_toolbox(model: BaseChatModel, toolbox: Toolbox) -> Any:
    try:
        return model.bind_tools(toolbox.schemas())
    except NotImplementedError:
        raise ConfigError(f"{type(model).__name__} does not support bind_tools",
                          "wrap it as a text-format planner: PromptedChatModel(inner=model) from "
                          "vidagent.agent.chat_models.langchain_api") from None


def planner_system_message(model: BaseChatModel, toolbox: Toolbox) -> SystemMessage:
    """The system message the planner sees before the conversation (not stored in the state)."""
    native = not isinstance(model, TextFormatChatModel)
    return SystemMessage(system_prompt(toolbox.schemas(), toolbox.cards(), native_tools=native))


# ---------------------------------------------------------------------------------------------------
# Routers (pure)
# ---------------------------------------------------------------------------------------------------


def route_after_planner(state: AgentState) -> Literal["tools", "planner", "finalize"]:
    """Answer -> finalize; out of LLM calls -> finalize; calls -> tools (unless the model ignores a budget
    warning it already got); neither -> planner again (the planner node added a correction)."""
    budget = budget_of(state)
    if state.get("answer_text") is not None or state["llm_calls"] >= budget.llm_calls or state.get("timed_out"):
        return "finalize"
    last = last_ai_message(state["messages"])
    if last is not None and (last.tool_calls or last.invalid_tool_calls):
        if state["tool_calls"] >= budget.max_tool_calls and state.get("budget_notices", 0) >= 1:
            return "finalize"
        return "tools"
    return "planner"


def last_ai_message(messages: list[BaseMessage]) -> AIMessage | None:
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            return message
    return None


# ---------------------------------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------------------------------


def start_node(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Open the question: reset the per-question counters and add the user message."""
    session = (config.get("configurable") or {}).get("video_session")
    ref = session.ref if session is not None else open_input(state)
    budget = budget_of(state)
    turn = state.get("turn", 0) + 1
    question, steps = state["question"], []
    previous = PreviousTurn.from_final(state.get("final"))
    if previous is not None:  # a follow-up on a thread: it must stand alone (vidagent.agent.followup)
        follow = resolve_followup(question, previous)
        question = follow.question
        if follow.resolved:
            steps.append({"kind": "notice", "turn": turn, "text": f"follow-up: {follow.resolved}. {follow.context}"})
    text = user_message(question, duration_s=ref.duration_s, width=ref.width, height=ref.height, fps=ref.fps,
                        answer_type=state.get("answer_type"), choices=state.get("choices"))
    deadline = time.time() + budget.timeout_s if budget.timeout_s is not None else None
    return {"messages": [HumanMessage(text)], "turn": turn, "llm_calls": 0, "tool_calls": 0,
            "budget_notices": 0, "answer_text": None, "final": None, "budget": budget.to_dict(),
            "deadline": deadline, "timed_out": False, "turn_start": len(state.get("messages") or []),
            "steps": steps}


def open_input(state: AgentState) -> VideoRef:
    """A run without a bound ``VideoSession`` takes its input straight from a client (``langgraph dev``, a
    plain ``graph.invoke``): check it and open its video. Errors are ``InputError``s, which langgraph-api
    passes to the client as the text the CLI prints (``vidagent.agent.serve`` says why they raise)."""
    check_input(state)
    try:
        return VideoRef.open(state["video"])
    except VideoError as error:
        raise InputError(error.problem, error.fix) from error


def past_deadline(state: AgentState) -> bool:
    """Whether the question's wall-clock budget is spent (wall time, so a checkpointed state resumed later
    is judged by the clock, not by its own counters)."""
    deadline = state.get("deadline")
    return deadline is not None and time.time() >= deadline


TIMEOUT_NOTICE = "time budget of {seconds:g} s used up: no further steps"


def make_planner_node(model: Any, system: SystemMessage, correction: str, *, remote: bool = False,
                      whole_thread: bool = True, tool_schemas: list[dict[str, Any]] | None = None):
    """``whole_thread=False``: the model sees only the current question's messages (a follow-up arrives
    resolved, ``vidagent.agent.followup``): text-format planners are trained on one question at a time.
    ``tool_schemas``: an answer that is one of these tools' names is sent back with a correction."""

    def planner(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """One LLM call: read tool calls or the answer; correct a reply that has neither."""
        if past_deadline(state):  # the tools used up the time: do not start another LLM call
            text = TIMEOUT_NOTICE.format(seconds=budget_of(state).timeout_s)
            return {"timed_out": True, "steps": [{"kind": "notice", "turn": state["turn"], "text": text}]}
        started = time.perf_counter()
        history = state["messages"] if whole_thread else state["messages"][state.get("turn_start", 0):]
        try:
            reply = model.invoke([system, *history], config)
        except Exception as error:
            # a remote model's failure (no connection, bad key) is the user's to fix: error/fix, not a traceback;
            # an exception in our in-process models is a bug and propagates
            if not remote or isinstance(error, VidagentError):
                raise
            raise planner_failure(model, error) from error
        seconds = time.perf_counter() - started
        reply = with_text_calls(reply)
        text = message_text(reply)
        parsed = parse_reply(text)
        has_calls = bool(reply.tool_calls or reply.invalid_tool_calls)
        # an empty answer ("<answer></answer>", "<answer>...</answer>") is no answer
        answer = None if has_calls or not (parsed.answer or "").strip(" .…") else parsed.answer
        llm_calls = state["llm_calls"] + 1
        limit = budget_of(state).llm_calls
        # an answer that is a tool's name is a call the model meant to make (not on the last LLM call)
        named = tool_named_by(answer, tool_schemas or []) if answer and llm_calls < limit else None
        # an answer of the wrong shape (no number, span or option; yes/no to a what-question; the question's
        # time as a count) gets one more try (not on the last call)
        misshapen = (answer_shape_message(answer, state.get("answer_type"), state.get("choices"), state.get("question"))
                     if answer and named is None and llm_calls < limit else None)
        if misshapen is not None and any(s.get("kind") == "notice" and s.get("text") == misshapen
                                         and s.get("turn") == state["turn"] for s in state.get("steps", [])):
            misshapen = None  # said once already: the same answer again stands (3 people at 3 s may be right)
        if named is not None:
            correction_now = answer_is_tool_message(answer, named)
            answer = None
        elif misshapen is not None:
            correction_now = misshapen
            answer = None
        else:
            correction_now = LAST_TURN_MESSAGE if llm_calls == limit - 1 else correction
        usage = reply.usage_metadata or {}
        step = {"kind": "plan", "turn": state["turn"], "text": parsed.text, "raw": text,
                "calls": _call_records(reply), "answer": answer, "seconds": seconds,
                "prompt_tokens": usage.get("input_tokens", 0), "completion_tokens": usage.get("output_tokens", 0)}
        update: dict[str, Any] = {"messages": [reply], "llm_calls": llm_calls, "steps": [step],
                                  "answer_text": answer}
        if answer is None and not has_calls and llm_calls < limit:
            update["messages"].append(HumanMessage(correction_now))
            update["steps"].append({"kind": "notice", "turn": state["turn"], "text": correction_now})
        return update

    return planner


def with_text_calls(reply: AIMessage) -> AIMessage:
    """A reply from a model without native tool calls may still write ``<tool_call>`` text: read it."""
    if reply.tool_calls or reply.invalid_tool_calls:
        return reply
    text = message_text(reply)
    parsed = parse_reply(text)
    if not parsed.has_calls:
        return reply
    return message_from_parsed(text, parsed, id=reply.id, usage_metadata=reply.usage_metadata,
                               response_metadata=reply.response_metadata)


def _call_records(reply: AIMessage) -> list[dict[str, Any]]:
    records = [{"id": c["id"], "name": c["name"], "arguments": c["args"]} for c in reply.tool_calls]
    records += [{"id": c["id"], "name": c.get("name"), "error": c.get("error") or "unreadable call"}
                for c in reply.invalid_tool_calls]
    return records


def make_tool_node(toolbox: Toolbox):
    def tools(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Run the calls of the last reply within the tool-call budget; every call gets an observation."""
        reply = last_ai_message(state["messages"])
        assert reply is not None, "the tools node runs only after a planner reply"
        budget = budget_of(state)
        session = session_for(state, config)
        messages: list[BaseMessage] = []
        steps: list[dict[str, Any]] = []
        used, notices = state["tool_calls"], state.get("budget_notices", 0)
        for bad in reply.invalid_tool_calls:
            text = MALFORMED_CALL_TEMPLATE.format(details=bad.get("error") or "unreadable call")
            messages.append(ToolMessage(text, tool_call_id=bad["id"] or "invalid", name=bad.get("name") or "invalid",
                                        status="error"))
            steps.append(_tool_step(state, bad["id"], bad.get("name") or UNREADABLE, None, text, error=text))
        timed_out = False
        failed = failed_calls(state.get("steps", []), state["turn"])

        def refuse(call: dict[str, Any], text: str) -> None:
            """The call is not run: its observation says why."""
            messages.append(ToolMessage(text, tool_call_id=call["id"], name=call["name"], status="error"))
            steps.append(_tool_step(state, call["id"], call["name"], call["args"], text, error=text))

        for call in reply.tool_calls:
            key = call_key(call["name"], call["args"])
            if timed_out or past_deadline(state):
                timed_out = True
                refuse(call, TIMEOUT_NOTICE.format(seconds=budget.timeout_s) + f"; {call['name']} was not run")
            elif used >= budget.max_tool_calls:
                notices += 1
                refuse(call, TOOL_BUDGET_TEMPLATE.format(used=used, limit=budget.max_tool_calls, name=call["name"]))
            elif key in failed and (relaxed := relaxed_call(toolbox, call, failed)) is None:
                # the same call would fail the same way: say so instead of running it
                refuse(call, REPEATED_FAILURE_TEMPLATE.format(name=call["name"], error=failed[key]))
            else:
                # the same failed call again runs without its optional arguments (what the error's fix
                # usually says: omit classes for every class, omit track_id for everyone), and says so
                run = relaxed if key in failed else call
                used += 1
                step, message = run_tool_call(toolbox, session, run, state["turn"])
                if run is not call:
                    dropped = ", ".join(sorted(set(call["args"]) - set(run["args"])))
                    note = RELAXED_CALL_TEMPLATE.format(name=call["name"], error=failed[key], dropped=dropped)
                    message.content = note + "\n" + message.content
                    step["text"] = note + "\n" + step["text"]
                messages.append(message)
                steps.append(step)
                if not step["ok"]:
                    failed[call_key(run["name"], run["args"])] = step["error"] or step["text"]
        if state["llm_calls"] == budget.llm_calls - 1:
            messages.append(HumanMessage(LAST_TURN_MESSAGE))
            steps.append({"kind": "notice", "turn": state["turn"], "text": LAST_TURN_MESSAGE})
        return {"messages": messages, "steps": steps, "tool_calls": used, "budget_notices": notices,
                "timed_out": timed_out}

    return tools


REPEATED_FAILURE_TEMPLATE = (
    "Error: {name} was already called with exactly these arguments and failed ({error}); it was not run "
    "again. Change the arguments or call another tool."
)


RELAXED_CALL_TEMPLATE = (
    "Note: {name} was already called with exactly these arguments and failed ({error}); it was run without "
    "{dropped} instead:"
)


def relaxed_call(toolbox: Toolbox, call: dict[str, Any], failed: dict[str, str]) -> dict[str, Any] | None:
    """A repeated failed call with its optional arguments dropped, or None when it has none to drop (or that
    call failed too, or the tool is unknown)."""
    if call["name"] not in toolbox or not isinstance(call["args"], dict):
        return None
    required = toolbox[call["name"]].required_args
    args = {k: v for k, v in call["args"].items() if k in required}
    if args == call["args"] or call_key(call["name"], args) in failed:
        return None
    return {**call, "args": args}


def call_key(name: str, arguments: Any) -> str:
    return name + json.dumps(arguments, sort_keys=True, default=str)


def failed_calls(steps: list[dict[str, Any]], turn: int) -> dict[str, str]:
    """This question's calls that ran and failed, by ``call_key``, with their error's first line."""
    return {call_key(s["name"], s["arguments"]): (s.get("error") or s["text"]).splitlines()[0]
            for s in steps if s["kind"] == "tool" and s["turn"] == turn and s.get("ran") and not s["ok"]}


def run_tool_call(toolbox: Toolbox, session: VideoSession, call: dict[str, Any],
                  turn: int) -> tuple[dict[str, Any], ToolMessage]:
    """Invoke one call (tool mistakes become observations; a bug in a tool raises ``ToolCrash``) and record
    frames, time and evidence. The typed result travels as the ``ToolMessage``'s artifact (the ``ToolCall``)."""
    seen, decoded = session.frames_seen, session.frames_decoded
    result = toolbox.invoke(session, call["name"], call["args"])
    evidence = result.result.evidence() if result.result is not None else Evidence()
    step = {"kind": "tool", "turn": turn, "id": call["id"], "name": call["name"], "ran": True,
            "arguments": result.arguments if result.ok else call["args"], "text": result.text,
            "ok": result.ok, "error": result.error, "cached": result.cached, "seconds": result.seconds,
            "frames_seen": session.frames_seen - seen, "frames_decoded": session.frames_decoded - decoded,
            "evidence": evidence_to_dict(evidence)}
    message = ToolMessage(result.text, tool_call_id=call["id"], name=call["name"], artifact=result,
                          status="success" if result.ok else "error")
    return step, message


def _tool_step(state: AgentState, call_id: str | None, name: str, arguments: Any, text: str, *,
               error: str) -> dict[str, Any]:
    return {"kind": "tool", "turn": state["turn"], "id": call_id, "name": name, "arguments": arguments, "ran": False,
            "text": text, "ok": False, "error": error, "evidence": evidence_to_dict(Evidence())}


def finalize_node(state: AgentState) -> dict[str, Any]:
    """Build the structured answer, or say plainly why there is none."""
    turn = state["turn"]
    tool_steps = [s for s in state.get("steps", []) if s["turn"] == turn and s["kind"] == "tool"]
    if state.get("answer_text") is not None:
        answer = build_answer(state["answer_text"], tool_steps, answer_type=state.get("answer_type"),
                              choices=state.get("choices"))
        reason = f"answered after {state['llm_calls']} LLM calls and {state['tool_calls']} tool calls"
        if past_deadline(state):
            reason += f" (past the time budget of {budget_of(state).timeout_s:g} s)"
        final = {"answered": True, "stop_reason": reason, "answer": answer.to_dict()}
    else:
        reason = unanswered_reason(state, tool_steps)
        final = {"answered": False, "stop_reason": reason, "answer": None}
    final["question"] = state["question"]  # the next question of a thread may refer to it
    return {"final": final, "steps": [{"kind": "final", "turn": turn, "text": final["stop_reason"]}]}


def unanswered_reason(state: AgentState, tool_steps: list[dict[str, Any]]) -> str:
    budget = budget_of(state)
    if state.get("timed_out"):
        reason = (f"no answer: the time budget ({budget.timeout_s:g} s) ran out after {state['llm_calls']} LLM "
                  f"calls and {state['tool_calls']} tool calls")
    elif state.get("budget_notices", 0) >= 1:
        reason = (f"no answer: the tool-call budget ({budget.max_tool_calls} calls) was used up and the model "
                  "did not answer")
    else:
        reason = (f"no answer: the model made {state['llm_calls']} LLM calls (the limit is {budget.llm_calls}) "
                  "without writing <answer>...</answer>")
    if any(FRAME_BUDGET_MARK in (s.get("error") or "") for s in tool_steps):
        reason += f"; the frame budget ({budget.frame_budget} frames) ran out"
    return reason


# ---------------------------------------------------------------------------------------------------
# The video of a run
# ---------------------------------------------------------------------------------------------------

_SESSIONS: OrderedDict[tuple, VideoSession] = OrderedDict()
_MAX_SESSIONS = 16


def session_for(state: AgentState, config: RunnableConfig) -> VideoSession:
    """The run's ``VideoSession`` from the config; without one (e.g. under ``langgraph dev``) a session is
    opened from ``state["video"]`` and kept per (thread, question) so the frame budget holds."""
    configurable = config.get("configurable") or {}
    session = configurable.get("video_session")
    if session is not None:
        return session
    budget: Budget = budget_of(state)
    key = (configurable.get("thread_id"), state.get("turn", 0), state["video"], budget.frame_budget)
    if key not in _SESSIONS:
        _SESSIONS[key] = VideoSession(state["video"], frame_budget=budget.frame_budget)
        while len(_SESSIONS) > _MAX_SESSIONS:
            _SESSIONS.popitem(last=False)
    return _SESSIONS[key]
