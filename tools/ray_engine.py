"""Corpus-scale indexing on Ray: one Ray task per video, the same code on a laptop and on a cluster.

``vidagent index DIR --engine ray --workers N`` starts a local Ray with N CPUs (or joins the cluster that
``RAY_ADDRESS`` names) and indexes each video in its own task, with the models on one thread per task: the
parallelism is across videos, where it costs nothing to coordinate. Each task writes its video's index file;
on a cluster point ``VIDAGENT_CACHE_DIR`` at a filesystem every node mounts, so later questions on any node
find the index. Ray is optional (``pip install 'vidagent[ray]'``); the default engine is this machine's
processes and needs no Ray.

Why Ray tasks and not Ray Data: the unit of work is a whole video (its chunks share a tracker's ids and one
models' load), which is a task; Ray Data's row batches would split a video across workers and gain nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError, VidagentError
from vidagent.tools.indexing import IndexReport
from vidagent.tools.video_index import IndexStore


def _require_ray() -> Any:
    try:
        import ray  # noqa: PLC0415
    except ImportError:
        raise ConfigError("the ray engine needs Ray, which is not installed",
                          "pip install 'ray==2.60.0' (or: pip install -e '.[ray]'), or use --engine local") from None
    return ray


def start_ray(workers: int) -> Any:
    """A local Ray with ``workers`` CPUs, or the cluster at ``RAY_ADDRESS``; no dashboard, no usage stats."""
    ray = _require_ray()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no telemetry
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "configure_logging": False}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=workers, **options)
    return ray


def finished(ray: Any, pending: dict[Any, int]) -> Iterator[tuple[int, Any, BaseException | None]]:
    """Ray tasks as they finish: (their number in ``pending``, the result, None) or (number, None, the task's own
    exception, unwrapped from Ray's ``RayTaskError``). Tasks still running when the caller stops are cancelled."""
    refs = list(pending)
    try:
        while refs:
            ready, refs = ray.wait(refs, num_returns=1)
            for ref in ready:
                try:
                    value = ray.get(ref)
                except Exception as error:  # a RayTaskError carries the task's exception as .cause
                    yield pending[ref], None, getattr(error, "cause", None) or error
                else:
                    yield pending[ref], value, None
    finally:
        for ref in refs:  # a failure (or ^C) in the caller: stop the others
            ray.cancel(ref)


def _index_one(path: str, profile: str, root: str, enabled: bool, rebuild: bool) -> dict[str, Any]:
    """In a Ray task: index one video with this task's own models (one thread each)."""
    os.environ["VIDAGENT_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["VIDAGENT_PROGRESS"] = "off"
    from vidagent.offline import apply_offline_defaults  # noqa: PLC0415
    from vidagent.tools.indexing import index_video  # noqa: PLC0415

    apply_offline_defaults()
    report = index_video(path, profile=profile, store=IndexStore(root, enabled=enabled), rebuild=rebuild,
                         say=lambda text: print(text, file=sys.stderr))
    return report.to_dict()


def index_with_ray(paths: Sequence[str | os.PathLike[str]], *, profile: str = "real", workers: int = 2,
                   store: IndexStore | None = None, rebuild: bool = False, shutdown: bool = True
                   ) -> list[IndexReport]:
    """Index every video in its own Ray task; reports in the order of ``paths``. A failing video fails its
    task only: the others finish and the error is raised after them, naming the video."""
    store = store or IndexStore.from_env()
    if not store.enabled:
        raise ConfigError("indexing is off (VIDAGENT_INDEX=off)", "unset VIDAGENT_INDEX to build an index")
    ray = start_ray(workers)
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(_index_one)
        pending = {task.remote(str(Path(p).resolve()), profile, str(store.root.resolve()), store.enabled, rebuild): i
                   for i, p in enumerate(paths)}
        done: dict[int, dict[str, Any]] = {}
        errors: dict[int, BaseException] = {}
        for number, value, error in finished(ray, pending):
            if error is not None:
                errors[number] = error
                continue
            done[number] = value
            print(f"[{len(done)}/{len(paths)}] indexed {Path(paths[number]).name}", file=sys.stderr)
        if errors:
            first = min(errors)
            raise errors[first] if isinstance(errors[first], VidagentError) else ConfigError(
                f"indexing {paths[first]} failed on Ray: {errors[first]}",
                "index that video alone with --engine local to see the error")
        return [_report(done[i]) for i in range(len(paths))]
    finally:
        if shutdown:
            ray.shutdown()


def _report(data: dict[str, Any]) -> IndexReport:
    data = dict(data)
    data.pop("complete", None)
    data["failed"] = {int(k): v for k, v in data["failed"].items()}
    return IndexReport(**data)
