"""Use an API chat model (OpenAI, Anthropic, Ollama, ... any LangChain model with ``bind_tools``) as the
planner. The tools travel as native tool schemas; the answer comes back in ``<answer>`` tags.

    pip install langchain-openai && export OPENAI_API_KEY=...
    python examples/api_planner.py examples/world/street.mp4 "How many dogs cross?" --planner openai:gpt-4o-mini
    python examples/api_planner.py VIDEO QUESTION --planner ollama:qwen2.5:7b     # a local Ollama server
    python examples/api_planner.py --tiny        # offline: a stand-in model with native tool calls

In your own code:

    from langchain_openai import ChatOpenAI
    agent = Agent(planner=ChatOpenAI(model="gpt-4o-mini", temperature=0), tools=Toolbox.default())

A chat model without tool calling works too, in the text format: ``PromptedChatModel(inner=model)``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field
from vidagent.agent import Agent


class OfflineToolCaller(BaseChatModel):
    """A stand-in for an API model (for ``--tiny``): calls the first bound tool once, then answers."""

    tool_names: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "offline-tool-caller"

    def bind_tools(self, tools: Any, **kwargs: Any) -> OfflineToolCaller:
        return self.model_copy(update={"tool_names": [t["name"] for t in tools]})

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        observations = [m for m in messages if isinstance(m, ToolMessage)]
        if not observations:
            call = {"name": self.tool_names[0], "args": {"start_s": 0, "end_s": 2, "samples": 4}, "id": "call_1"}
            message = AIMessage("I will measure the motion first.", tool_calls=[call])
        else:
            message = AIMessage(f"The tool said: {observations[-1].content}\n<answer>moving</answer>")
        return ChatResult(generations=[ChatGeneration(message=message)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?")
    parser.add_argument("question", nargs="?")
    parser.add_argument("--planner", default="openai:gpt-4o-mini", help="PROVIDER:MODEL")
    parser.add_argument("--tiny", action="store_true", help="offline stand-in model on a generated clip")
    args = parser.parse_args(argv)

    if args.tiny:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import numpy as np
        from custom_tool import motion_energy
        from vidagent.tools.video import write_video

        frames = [np.full((90, 160, 3), (i * 12) % 255, np.uint8) for i in range(20)]
        video = write_video(Path(tempfile.mkdtemp()) / "fade.mp4", frames, fps=10)
        agent = Agent(planner=OfflineToolCaller(), tools=[motion_energy], max_tool_calls=2)
        question = "Is the picture changing?"
    else:
        if not args.video or not args.question:
            parser.error("give VIDEO and QUESTION, or --tiny")
        from vidagent.agent.chat_models.langchain_api import chat_model_from_string

        agent = Agent(planner=chat_model_from_string(args.planner))  # default tools
        video, question = args.video, args.question

    result = agent.ask(video, question)
    for step in result.trace:
        print(f"[{step.kind}] {step.summary()}")
    print("answer:", result.answer if result.answered else result.stop_reason)
    print("stats:", result.stats.line())
    return 0 if result.answered else 1


if __name__ == "__main__":
    sys.exit(main())
