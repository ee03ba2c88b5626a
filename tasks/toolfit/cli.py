"""``vidagent train detector|action|clip``: rebuild the default tools' weights from world videos.

The ``train`` command group belongs to ``vidagent.policies.cli``; it calls
``add_train_tools_parsers(train_subparsers)`` to add these three (and
``vidagent.tasks.toolfit.evaluate.add_eval_tools_parser`` for ``vidagent eval tools``). Each is also
runnable on its own: ``python -m vidagent.tasks.toolfit.train_detector`` (and ``train_action``,
``train_clip``, ``evaluate``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_train_tools_parsers(train_subparsers: argparse._SubParsersAction) -> None:
    """Add ``detector``, ``action`` and ``clip`` to the ``vidagent train`` group."""
    from vidagent.tasks.toolfit import train_action, train_clip, train_detector  # noqa: PLC0415

    for name, module, help_text in [
        ("detector", train_detector, "YOLO11n (from yolo11n.yaml) on world frames -> runs/detector/detector.pt"),
        ("action", train_action, "the action model on world clips -> runs/action/action.safetensors"),
        ("clip", train_clip, "the tiny open_clip grounder on world frames + captions -> runs/clip/clip.safetensors"),
    ]:
        parser = train_subparsers.add_parser(name, help=help_text, description=module.__doc__,
                                             formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(parser)
        parser.set_defaults(handler=_handler(module))


def script_main(module: Any, argv: list[str] | None = None) -> int:
    """``python -m vidagent.tasks.toolfit.<trainer>``: the trainer's flags, then its ``run``; the flags are
    recorded (``args.argv``) in the weights' metadata as the reproducing command, as under ``vidagent train``."""
    parser = argparse.ArgumentParser(description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return module.run(args)


def _handler(module):
    def handle(args: argparse.Namespace) -> int:
        args.argv = sys.argv[3:]  # recorded in the weights' metadata as the reproducing command
        return module.run(args)

    return handle
