"""On-disk cache of tool results (SQLite), shared by processes.

Key: video sha256, tool name, canonical JSON of the validated arguments, and the tool's model fingerprint
(weights path + size + mtime for model tools), so new weights never serve stale results. SQLite in WAL
mode gives atomic writes and concurrent readers with writers across processes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pydantic

from vidagent.offline import cache_root

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    video_sha256 TEXT NOT NULL,
    tool TEXT NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS results_video ON results(video_sha256);
"""


def open_wal(path: Path, *, timeout_s: float) -> sqlite3.Connection:
    """An autocommit SQLite connection in WAL mode (readers alongside one writer, across processes): what the
    result cache and the video indexes share. One per thread: connections are not shared between threads."""
    conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def default_cache_path() -> Path:
    return cache_root() / "tool_results.sqlite"


def canonical_json(value: Any) -> str:
    """Stable JSON for cache keys: sorted keys, floats rounded so 1.0 and 1 hit the same entry."""
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return round(float(value), 6)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return str(value)


class ResultCache:
    """Tool-result cache. ``ResultCache(enabled=False)`` turns it off; ``clear()`` empties it.

    ``VIDAGENT_RESULT_CACHE=off`` disables the default cache; ``VIDAGENT_CACHE_DIR`` moves it.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, enabled: bool = True):
        self.path = Path(path) if path is not None else default_cache_path()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.write_errors = 0
        self._local = threading.local()  # one connection per thread: sqlite3 connections are not shared
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                conn.executescript(SCHEMA)

    @classmethod
    def from_env(cls) -> ResultCache:
        return cls(enabled=os.environ.get("VIDAGENT_RESULT_CACHE", "on").lower() not in {"off", "0", "false"})

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = open_wal(self.path, timeout_s=30.0)
        return conn

    @staticmethod
    def make_key(video_sha256: str, tool: str, arguments: dict[str, Any], fingerprint: str) -> str:
        material = "\x1f".join([video_sha256, tool, canonical_json(arguments), fingerprint])
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, video_sha256: str, tool: str, arguments: dict[str, Any], fingerprint: str, *,
            result_type: type) -> Any | None:
        if not self.enabled:
            return None
        key = self.make_key(video_sha256, tool, arguments, fingerprint)
        row = self._connect().execute("SELECT payload FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        try:
            value = pydantic.TypeAdapter(result_type).validate_json(row[0])
        except pydantic.ValidationError:  # written by an older result type: treat as a miss
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, video_sha256: str, tool: str, arguments: dict[str, Any], fingerprint: str, *,
            result: Any) -> None:
        if not self.enabled:
            return
        key = self.make_key(video_sha256, tool, arguments, fingerprint)
        payload = json.dumps(dataclasses.asdict(result))
        # One statement is one atomic transaction; INSERT OR REPLACE keeps concurrent writers safe.
        try:
            self._connect().execute(
                "INSERT OR REPLACE INTO results (key, video_sha256, tool, payload, created) VALUES (?, ?, ?, ?, ?)",
                (key, video_sha256, tool, payload, time.time()),
            )
        except sqlite3.Error as error:  # a full disk or a locked file costs a recomputation, not the answer
            self.write_errors += 1
            if self.write_errors == 1:
                warnings.warn(f"tool-result cache {self.path}: cannot write ({error}); results are not cached",
                              RuntimeWarning, stacklevel=2)

    def clear(self, video_sha256: str | None = None) -> int:
        """Delete all entries, or those of one video. Returns how many were removed."""
        if not self.enabled:
            return 0
        conn = self._connect()
        if video_sha256 is None:
            return conn.execute("DELETE FROM results").rowcount
        return conn.execute("DELETE FROM results WHERE video_sha256 = ?", (video_sha256,)).rowcount

    def __len__(self) -> int:
        if not self.enabled:
            return 0
        return self._connect().execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def stats(self) -> dict[str, Any]:
        return {"path": str(self.path), "enabled": self.enabled, "entries": len(self),
                "hits": self.hits, "misses": self.misses, "write_errors": self.write_errors}
