"""vidagent: tool-using video agents with a post-trainable LangGraph planner.

Importing vidagent leaves the process environment alone; every model loads from a local path
(``vidagent.offline`` says where the offline settings are applied).
"""

from vidagent.errors import VidagentError

__version__ = "0.1.0"
__all__ = ["VidagentError", "__version__"]
