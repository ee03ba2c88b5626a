"""vidagent: tool-using video agents with a post-trainable LangGraph planner.

Importing any part of vidagent first applies the offline defaults (see ``vidagent.offline``), so that
ultralytics, Hugging Face and friends never reach the network or send telemetry.
"""

from vidagent.offline import apply_offline_defaults

apply_offline_defaults()

from vidagent.errors import VidagentError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["VidagentError", "__version__"]
