"""The graph for ``langgraph dev`` / LangGraph Platform (see ``langgraph.json`` at the repository root).

The server passes no ``VideoSession``: a run's input names the video by path and the tool node opens it
(with the run's frame budget). Input example for the Studio:

    {"video": "/abs/path/street.mp4", "question": "How many cars pass?", "answer_type": "number",
     "budget": {"max_tool_calls": 8, "frame_budget": 400}}

``VIDAGENT_PLANNER`` picks the planner (same specs as ``vidagent ask --planner``; default SmolLM2) and
``VIDAGENT_TOOLS`` adds user tools (comma-separated ``module:attr``). The server brings its own
checkpointer, so none is compiled in.
"""

from __future__ import annotations

import os

from vidagent.offline import apply_offline_defaults

apply_offline_defaults()  # the served graph is a program, like the CLI: nothing may reach the network

from vidagent.agent.graph import build_graph  # noqa: E402
from vidagent.agent.planner_loading import load_planner  # noqa: E402
from vidagent.tools.toolbox import Toolbox, load_tool_spec  # noqa: E402


def make_graph():
    """Build the compiled graph from the environment (called once by the server)."""
    planner = load_planner(os.environ.get("VIDAGENT_PLANNER") or None)
    extra = [load_tool_spec(s.strip()) for s in os.environ.get("VIDAGENT_TOOLS", "").split(",") if s.strip()]
    return build_graph(planner, Toolbox.default(extra))
