"""Ask a question about a video from Python, watch the steps, and write the HTML report.

    python examples/ask_python.py examples/real/bikes.mp4 "Is there a bicycle in the video?"
    python examples/ask_python.py --tiny            # seconds: a generated clip, a replayed planner

``--tiny`` needs no model weights: it writes a 3 s clip, uses the example ``motion_energy`` tool and a
scripted planner, so the example (and its test) run anywhere.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from vidagent.agent import Agent, Result, ScriptedChatModel, write_report
from vidagent.agent.parsing import format_answer, format_tool_call


def tiny_setup(workdir: Path) -> tuple[Path, Agent]:
    """A moving-square clip, the example motion tool and a planner that replays two replies."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from custom_tool import motion_energy
    from vidagent.tools.video import write_video

    frames = []
    for i in range(30):
        image = np.zeros((120, 160, 3), np.uint8)
        if i >= 10:  # the square starts moving at 1.0 s
            image[40:70, (i - 10) * 4:(i - 10) * 4 + 30] = 255
        frames.append(image)
    video = write_video(workdir / "square.mp4", frames, fps=10)
    planner = ScriptedChatModel(replies=[
        "I will measure motion over the whole clip.\n"
        + format_tool_call("motion_energy", {"start_s": 0, "end_s": 3, "samples": 8}),
        format_answer("1.0-3.0"),
    ])
    return video, Agent(planner=planner, tools=[motion_energy], max_tool_calls=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", help="video file")
    parser.add_argument("question", nargs="?", help="question")
    parser.add_argument("--tiny", action="store_true", help="tiny budget: generated clip, scripted planner")
    parser.add_argument("--report", default=None, help="HTML report path (default: next to the video)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="vidagent-example-"))
    if args.tiny:
        video, agent = tiny_setup(workdir)
        question = "When does the square move?"
    else:
        if not args.video or not args.question:
            parser.error("give VIDEO and QUESTION, or --tiny")
        video, question = Path(args.video), args.question
        agent = Agent.from_defaults()  # SmolLM2 planner + the default vision tools, offline

    result = None
    for item in agent.stream(video, question, answer_type="interval" if args.tiny else None):
        if isinstance(item, Result):
            result = item
        else:
            print(f"[{item.kind}] {item.summary()}")
    assert result is not None
    print("answer:", result.answer if result.answered else result.stop_reason)
    print("evidence:", result.evidence)
    print("stats:", result.stats.line())
    report = write_report(result, args.report or workdir / "report.html")
    print("report:", report)
    return 0 if result.answered else 1


if __name__ == "__main__":
    sys.exit(main())
