"""The ``vidagent`` command line. Each subpackage contributes its subcommands through ``register``.

Subcommand modules keep heavy imports (torch, ultralytics, transformers) inside their handlers so that
``vidagent --help`` stays instant.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from vidagent.errors import VidagentError
from vidagent.offline import apply_offline_defaults

# One list, in the order shown by --help. A module here defines ``register(subparsers)``.
COMMAND_MODULES = [
    "vidagent.agent.cli",  # ask
    "vidagent.tools.cli",  # video, tools
    "vidagent.tasks.cli",  # world, eval
    "vidagent.policies.cli",  # train
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vidagent",
        description="Ask multi-step questions about videos with a tool-using LLM planner, "
        "register your own vision tools, and post-train the planner.",
    )
    from vidagent import __version__

    parser.add_argument("--version", action="version", version=f"vidagent {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:  # that part of vidagent is not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    apply_offline_defaults()  # a program: no library of ours may reach the network or send telemetry
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0 if args.command is None else 2
    interrupted = _watch_interrupts()
    try:
        code = int(args.handler(args) or 0)
        if interrupted:  # a library caught the KeyboardInterrupt (langgraph's task callbacks catch BaseException)
            print("interrupted", file=sys.stderr)
            return 130
        return code
    except VidagentError as error:
        if os.environ.get("VIDAGENT_DEBUG") and error.__cause__ is not None:  # a crash: the developer's traceback
            traceback.print_exception(error.__cause__)
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `vidagent tools list | head`: the reader left, which is no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        _stop_watching(interrupted)


def _watch_interrupts() -> list[bool]:
    """Ctrl-C raises KeyboardInterrupt as usual, and is also remembered: a list that is non-empty once SIGINT
    came, so the command still exits 130 when some library swallowed the exception on its way up."""
    import signal  # noqa: PLC0415

    seen: list[bool] = []
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return seen  # someone (a test, an embedding program) handles SIGINT itself: leave it alone

    def handler(signum: int, frame: object) -> None:
        seen.append(True)
        signal.default_int_handler(signum, frame)

    handler.watches = seen  # type: ignore[attr-defined]  (which call of main installed it)

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        pass
    return seen


def _stop_watching(seen: list[bool]) -> None:
    import signal  # noqa: PLC0415

    handler = signal.getsignal(signal.SIGINT)
    if getattr(handler, "watches", None) is seen:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def run() -> None:
    """The console script: ``main``, then exit. After Ctrl-C the process ends with ``os._exit``: a worker
    thread may still be inside native code (a torch decode on the planner's batching thread, a decoder's
    thread pool), and the normal interpreter shutdown would destroy its C++ thread object while it runs
    ("terminate called without an active exception", SIGABRT, exit 134). Everything the command wrote is
    flushed or committed by then (its ``finally`` blocks ran while the interrupt unwound)."""
    code = main()
    if code == 130:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    run()
