"""The environment of training and evaluation runs: a world's questions, its videos, and a toolbox.

Two tool profiles, one code path (the same default tools, the same graph, the same ``Toolbox.invoke``):

- ``world``: the default tools over the models trained on the world (``WorldModels``), on the pixels;
- ``world-truth``: the same tools over the world's ground truth (``WorldTruth``): the planner reads the
  identical prompt, argument checks, class names and error texts, only perception is exact. On a 2-core
  CPU this is what makes GRPO rollouts affordable: a call costs microseconds instead of a detector pass.
  It teaches the planner *how to use* the tools; how good the tools are is measured separately (the
  oracle-program row of ``vidagent eval`` with ``--tools world``). Ground-truth tools decode no frames.

User tools (``--tool module:attr``) join either profile. The profiles of ``vidagent.tools.profiles`` need no
world (they perceive the pixels), so they also run on a user's own questions and videos (``QuestionFile``:
``vidagent eval --questions FILE.jsonl --videos DIR``); only ``world-truth`` needs a world.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError
from vidagent.tasks.questions import Question, load_questions
from vidagent.tools.base import Tool
from vidagent.tools.profiles import PROFILES, profile_toolbox
from vidagent.tools.toolbox import Toolbox


@dataclass
class WorldData:
    """A loaded world directory: questions and the ground truth of every video, by video path."""

    world: Any  # vidagent.tasks.world.generate.World

    @classmethod
    def load(cls, root: str | Path) -> WorldData:
        from vidagent.tasks.world.generate import load_world  # noqa: PLC0415

        if not str(root):
            raise ConfigError("no world directory given", "pass --world DIR (make one with `vidagent world generate`)")
        return cls(load_world(root))

    def questions(self, split: str, limit: int | None = None, seed: int = 0,
                  require_program: bool = True) -> list[Question]:
        """Questions of ``split`` in a seeded order (the same for every row of an eval and every run)."""
        found = [q for q in self.world.split(split) if q.program is not None or not require_program]
        if not found:
            raise ConfigError(f"the world {self.world.root} has no {split} questions",
                              "generate more videos (about 10% of videos go to val and to test)")
        random.Random(seed).shuffle(found)
        return found[:limit] if limit is not None else found

    def video_path(self, question: Question) -> str:
        return str(self.world.video_path(question.video).resolve())

    def truth_by_path(self) -> dict[str, Any]:
        return {str(self.world.video_path(vid).resolve()): gt for vid, gt in self.world.truths.items()}


# The tool profiles of training and evaluation runs: those of `vidagent ask` (vidagent.tools.profiles) and
# the world's ground truth, which needs the world. ``tool_profiles()`` reads PROFILES when asked, so a
# profile registered there later (or by a test) is known too; TOOL_PROFILES is the list at import.
WORLD_TRUTH_ABOUT = "the default tools answered from the world's ground truth (exact, instant, no frames)"


def tool_profiles() -> dict[str, str]:
    """Every tool profile ``--tools`` takes, by name, with what it is."""
    return {**{name: about for name, (about, _) in PROFILES.items()}, "world-truth": WORLD_TRUTH_ABOUT}


TOOL_PROFILES: dict[str, str] = tool_profiles()
# old names; a name that is a profile again (e.g. "real", now the pretrained models) is that profile
_RENAMED = {"real": "world", "oracle": "world-truth"}


def make_toolbox(profile: str, world: WorldData | None = None, extra: Iterable[Tool] = ()) -> Toolbox:
    """The toolbox of a run: the default tools over ``profile``'s perception, plus the user's ``extra`` tools.

    ``ask``, ``train`` and ``eval`` all build their toolbox this way, so a tool a user adds with ``--tool``
    is in the prompt of training rollouts exactly as at inference. Every profile but ``world-truth`` works
    with ``world=None`` (a user's own videos).
    """
    check_profile(profile)
    if profile == "world-truth":
        if world is None:
            others = ", ".join(p for p in tool_profiles() if p != "world-truth")
            raise ConfigError("the world-truth tools answer from a world's ground truth: they need a world "
                              "directory, and work only on that world's videos",
                              f"pass --world DIR (the world the videos come from), or use --tools {others}")
        from vidagent.tasks.world_truth import WorldTruth  # noqa: PLC0415

        return Toolbox.default(extra, perception=WorldTruth(world.truth_by_path()))
    return profile_toolbox(profile, extra)


def check_profile(profile: str) -> None:
    """``ConfigError`` with the fix unless ``profile`` names one of ``tool_profiles()`` (an old name says its
    new one)."""
    known = tool_profiles()
    if profile in known:
        return
    if profile in _RENAMED:
        raise ConfigError(f"the tool profile {profile!r} was renamed", f"use --tools {_RENAMED[profile]}")
    raise ConfigError(f"unknown tool profile {profile!r}", f"use one of: {', '.join(known)}")


# ---------------------------------------------------------------------------------------------------
# A user's own questions over their own videos
# ---------------------------------------------------------------------------------------------------

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
QUESTIONS_FILE_STAMP = "questions-file:"  # how eval rows from a questions file record their suite
MISSING_SHOWN = 5


def questions_file_stamp(name: str, sha256: str) -> str:
    """What rows answered on a questions file record instead of a world generator version."""
    return f"{QUESTIONS_FILE_STAMP}{name}@sha256:{sha256}"


def video_candidates(question: Question, root: Path) -> list[Path]:
    """Where ``question``'s video may be, in order: its ``video_file`` under ``root`` (or as given when
    absolute), that file's name directly in ``root``, then ``root/<video>`` and ``root/<video>.<ext>`` for
    each of ``VIDEO_EXTENSIONS``."""
    found: list[Path] = []
    if question.video_file:
        given = Path(question.video_file).expanduser()
        found += [given] if given.is_absolute() else [root / given]
        found.append(root / given.name)
    if Path(question.video).suffix.lower() in VIDEO_EXTENSIONS:
        found.append(root / question.video)
    found += [root / f"{question.video}{ext}" for ext in VIDEO_EXTENSIONS]
    return list(dict.fromkeys(found))


@dataclass
class QuestionFile:
    """A questions JSONL file (``vidagent.tasks.questions.Question``, one a line) and the video of each
    question, found under a videos directory: what ``vidagent eval --questions FILE --videos DIR`` runs on."""

    path: Path
    videos_dir: Path
    all_questions: list[Question]
    videos: dict[str, str]  # question id -> resolved video path
    sha256: str

    @classmethod
    def load(cls, path: str | Path, videos: str | Path | None = None) -> QuestionFile:
        """Read ``path`` (a bad line: ``load_questions``' ``ConfigError``) and find every question's video
        under ``videos`` (default: the file's folder); ``ConfigError`` naming the first missing ones."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"questions file {path} does not exist",
                              "pass --questions FILE.jsonl, one question a line (schema in docs/world.md)")
        questions = load_questions(path)
        if not questions:
            raise ConfigError(f"questions file {path} has no questions", "write one question a line")
        counts: dict[str, int] = {}
        for q in questions:
            counts[q.id] = counts.get(q.id, 0) + 1
        duplicated = [qid for qid, n in counts.items() if n > 1]
        if duplicated:
            raise ConfigError(f"{path}: question ids must be unique; repeated: {', '.join(duplicated[:MISSING_SHOWN])}",
                              "give every line its own id")
        root = Path(videos).expanduser() if videos else path.parent
        if videos and not root.is_dir():
            raise ConfigError(f"videos directory {root} does not exist",
                              "pass --videos DIR, the folder that holds the questions' videos")
        found, missing = {}, []
        for q in questions:
            candidates = video_candidates(q, root)
            hit = next((c for c in candidates if c.is_file()), None)
            if hit is None:
                missing.append((q, candidates))
            else:
                found[q.id] = str(hit.resolve())
        if missing:
            shown = "; ".join(f"{q.id} (video {q.video!r}: tried {', '.join(str(c) for c in cands[:3])}"
                              f"{', ...' if len(cands) > 3 else ''})" for q, cands in missing[:MISSING_SHOWN])
            more = f"; and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
            raise ConfigError(f"{len(missing)} of {len(questions)} questions in {path} have no video under "
                              f"{root}: {shown}{more}",
                              "pass --videos DIR where the clips are (a question's video_file is read relative "
                              f"to DIR, else DIR/<video> with {'/'.join(VIDEO_EXTENSIONS)}); for the project's "
                              "real QA set run `vidagent clips fetch`")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(path=path, videos_dir=root, all_questions=questions, videos=found, sha256=digest)

    @property
    def stamp(self) -> str:
        return questions_file_stamp(self.path.name, self.sha256)

    def questions(self, limit: int | None = None, seed: int = 0) -> list[Question]:
        """The file's questions in a seeded order (as a world suite's), the first ``limit`` of them."""
        found = list(self.all_questions)
        random.Random(seed).shuffle(found)
        return found[:limit] if limit is not None else found

    def video_path(self, question: Question) -> str:
        return self.videos[question.id]
