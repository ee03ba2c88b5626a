"""The graph for ``langgraph dev`` / LangGraph Platform (see ``langgraph.json`` and docs/agent.md, "Serving").

The server passes no ``VideoSession``: a run's input (``vidagent.agent.state.AgentInput``, which the
server shows as the assistant's input schema) names the video by path and the tool node opens it with the
run's frame budget:

    {"video": "/abs/path/street.mp4", "question": "How many cars pass?", "answer_type": "number",
     "budget": {"max_tool_calls": 8, "frame_budget": 400}}

``VIDAGENT_PLANNER`` picks the planner (same specs as ``vidagent ask --planner``; default SmolLM2),
``VIDAGENT_TOOL_PROFILE`` the tool profile (as ``vidagent ask --tools``; default ``real``, as for ``ask``) and
``VIDAGENT_TOOLS`` adds user tools (comma-separated ``module:attr``). The server brings its own
checkpointer, so none is compiled in.

Blocking work happens at import. langgraph-api imports this module in a worker thread when the server
starts, but calls the graph factory named in ``langgraph.json`` on its event loop for every request
(schemas, state, each run), where ``langgraph dev`` fails any blocking call (blockbuster's
``BlockingError``). So the planner loads here, once, and ``make_graph`` only hands out the built graph. The
nodes are sync functions: LangGraph runs them in a thread pool, outside the event loop, so video decoding
and torch inside them are allowed.

Errors: a run that fails raises, and its status is "error". langgraph-api sends a client the message of a
``ValueError``, ``TypeError``, ``RuntimeError`` (and a few more) and replaces any other exception's with
"An internal error occurred". The graph raises input errors as ``InputError`` (a ``ValueError``) and this
module re-raises tool crashes as ``ServedToolCrash`` (a ``RuntimeError``), so the client gets the
``problem\\n  fix: ...`` text the CLI prints. Raising, rather than ending the run with an error in the final
state, keeps the graph's shape and lets Studio and the SDK see the run as failed.
"""

from __future__ import annotations

import os
from typing import Any

from vidagent.offline import apply_offline_defaults

apply_offline_defaults()  # the served graph is a program, like the CLI: nothing may reach the network

from vidagent.agent.graph import build_graph
from vidagent.agent.planner_loading import load_planner
from vidagent.errors import ToolCrash
from vidagent.tools.base import ToolCall
from vidagent.tools.profiles import DEFAULT_PROFILE, profile_toolbox
from vidagent.tools.toolbox import Toolbox, load_tool_spec


class ServedToolCrash(ToolCrash, RuntimeError):
    """A ``ToolCrash`` whose text langgraph-api passes to the client (it does so for a ``RuntimeError``)."""


class ServedToolbox(Toolbox):
    """The toolbox of the served graph: a crash keeps its text on its way to the client."""

    def invoke(self, video: Any, name: str, arguments: dict[str, Any] | None) -> ToolCall:
        try:
            return super().invoke(video, name, arguments)
        except ToolCrash as crash:
            raise ServedToolCrash(crash.problem, crash.fix) from crash


def build_served_graph() -> Any:
    """Build the compiled graph from the environment (``VIDAGENT_PLANNER``, ``VIDAGENT_TOOL_PROFILE``,
    ``VIDAGENT_TOOLS``)."""
    planner = load_planner(os.environ.get("VIDAGENT_PLANNER") or None)
    extra = [load_tool_spec(s.strip()) for s in os.environ.get("VIDAGENT_TOOLS", "").split(",") if s.strip()]
    profile = os.environ.get("VIDAGENT_TOOL_PROFILE") or DEFAULT_PROFILE
    return build_graph(planner, ServedToolbox(profile_toolbox(profile, extra)))


GRAPH = build_served_graph()


def make_graph() -> Any:
    """The served graph, built at import (the server calls this on its event loop: no I/O here)."""
    return GRAPH
