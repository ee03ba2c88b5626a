"""The per-video index: what the perception models saw over the whole video, computed once and kept on disk.

A video is cut into chunks (the detector's ``chunk_s``, 30-60 s). Each chunk of each *layer* is one row:

* ``tracks``: the detector's tracked chunk (tracks with classes and colours, keypoints), the base every
  object tool reads, so whole-video questions never decode the video again;
* ``scene``: scene tags and on-screen text at the index's scene rate (real footage);
* ``shots``: colour-histogram change between sampled frames, from which shot boundaries are found.

Rows are keyed by (layer, chunk, fingerprint): the fingerprint names the models and settings, so an index
written by other model versions is never served (``vidagent index`` says so and recomputes). One file per
video, ``ROOT/<sha256[:2]>/<sha256>.sqlite``, named by the content hash: renaming or copying the video keeps
its index, and deleting one video's index is deleting one file.

Why SQLite: it is in the standard library and the tool-result cache already uses it; each chunk is one
transaction, so a killed run loses at most the chunk in flight and never leaves half a row; WAL mode lets
tools read while an indexer writes; several worker processes can write their chunks into one file. Parquet
(pyarrow, a new dependency) writes whole files: appending chunk by chunk and resuming would mean a file per
chunk and our own bookkeeping of which are complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vidagent.errors import VidagentError
from vidagent.offline import cache_root
from vidagent.tools.cache import open_wal

INDEX_SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    layer TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,          -- 'done' or 'failed'
    payload BLOB,                  -- zlib-compressed JSON (done)
    error TEXT,                    -- what went wrong (failed)
    frames INTEGER NOT NULL DEFAULT 0,
    seconds REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    PRIMARY KEY (layer, chunk, fingerprint)
);
"""
# A chunk's rows take 5-40 KB (measured on 30 s chunks of real footage); the free-space check asks for this much
# per video minute, with room to spare.
BYTES_PER_MINUTE = 256 * 1024
MIN_FREE_BYTES = 64 * 1024 * 1024


class VideoIndexError(VidagentError):
    """The index cannot be built or read (no disk room, another version, a busy lock)."""


def default_index_root() -> Path:
    return cache_root() / "index"


class VideoIndex:
    """The index file of one video. Thread-safe (one SQLite connection per thread)."""

    def __init__(self, path: str | os.PathLike[str], sha256: str, duration_s: float | None = None):
        self.path = Path(path)
        self.sha256 = sha256
        self.write_errors = 0
        self._done: set[tuple[str, int, str]] = set()  # rows known to be finished: no query to ask again
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        conn.executescript(SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(INDEX_SCHEMA_VERSION),))
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('sha256', ?)", (sha256,))
        if duration_s is not None:
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('duration_s', ?)", (repr(float(duration_s)),))
        stored = self.meta().get("schema_version")
        if stored != str(INDEX_SCHEMA_VERSION):
            raise VideoIndexError(f"the index {self.path} has schema version {stored}, this vidagent writes "
                              f"{INDEX_SCHEMA_VERSION}", f"delete it (rm {self.path}) and index the video again")

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = open_wal(self.path, timeout_s=60.0)
        return conn

    def meta(self) -> dict[str, str]:
        return dict(self._connect().execute("SELECT key, value FROM meta").fetchall())

    def get(self, layer: str, chunk: int, fingerprint: str) -> Any | None:
        """The payload of a finished chunk, or None."""
        row = self._connect().execute(
            "SELECT payload FROM chunks WHERE layer=? AND chunk=? AND fingerprint=? AND status='done'",
            (layer, chunk, fingerprint)).fetchone()
        if row is None:
            return None
        self._done.add((layer, chunk, fingerprint))
        return json.loads(zlib.decompress(row[0]))

    def has(self, layer: str, chunk: int, fingerprint: str) -> bool:
        """Whether a finished chunk is stored (without reading its payload; remembered once seen)."""
        key = (layer, chunk, fingerprint)
        if key not in self._done and self._connect().execute(
                "SELECT 1 FROM chunks WHERE layer=? AND chunk=? AND fingerprint=? AND status='done'", key).fetchone():
            self._done.add(key)
        return key in self._done

    def put(self, layer: str, chunk: int, fingerprint: str, payload: Any, *, frames: int = 0,
            seconds: float = 0.0) -> None:
        """Store a finished chunk (one atomic statement; a concurrent writer of the same chunk is harmless)."""
        blob = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 6)
        self._write("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, 'done', ?, NULL, ?, ?, ?)",
                    (layer, chunk, fingerprint, blob, frames, seconds, time.time()))
        self._done.add((layer, chunk, fingerprint))

    def fail(self, layer: str, chunk: int, fingerprint: str, error: str) -> None:
        """Record that a chunk cannot be computed (a truncated end); a later run tries it again."""
        self._write("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, 'failed', NULL, ?, 0, 0, ?)",
                    (layer, chunk, fingerprint, error, time.time()))
        self._done.discard((layer, chunk, fingerprint))

    def _write(self, sql: str, values: tuple) -> None:
        try:
            self._connect().execute(sql, values)
        except sqlite3.Error as error:  # a full disk costs a recomputation later, never a corrupt file
            self.write_errors += 1
            raise VideoIndexError(f"cannot write the video index {self.path}: {error}",
                              "free disk space, or move the index with VIDAGENT_CACHE_DIR=/bigger/disk") from None

    def status(self, layer: str, fingerprint: str) -> dict[int, str | None]:
        """chunk -> None (done) or the error text (failed), for one layer and fingerprint."""
        rows = self._connect().execute(
            "SELECT chunk, status, error FROM chunks WHERE layer=? AND fingerprint=?", (layer, fingerprint))
        return {chunk: (None if status == "done" else error) for chunk, status, error in rows}

    def other_fingerprints(self, layer: str, fingerprint: str) -> list[str]:
        """Fingerprints of rows this layer holds from other models or settings."""
        rows = self._connect().execute("SELECT DISTINCT fingerprint FROM chunks WHERE layer=? AND fingerprint!=?",
                                       (layer, fingerprint))
        return [row[0] for row in rows]

    def drop_others(self, fingerprints: dict[str, str]) -> int:
        """Delete rows whose fingerprint is not the given one of their layer. Returns how many went."""
        removed = 0
        self._done = {key for key in self._done if fingerprints.get(key[0]) == key[2]}
        for layer, fingerprint in fingerprints.items():
            removed += self._connect().execute("DELETE FROM chunks WHERE layer=? AND fingerprint!=?",
                                               (layer, fingerprint)).rowcount
        return removed

    def summary(self) -> dict[str, Any]:
        rows = self._connect().execute(
            "SELECT layer, status, COUNT(*), SUM(frames), SUM(seconds) FROM chunks GROUP BY layer, status")
        layers: dict[str, dict[str, Any]] = {}
        for layer, status, count, frames, seconds in rows:
            entry = layers.setdefault(layer, {"done": 0, "failed": 0, "frames": 0, "seconds": 0.0})
            entry[status] = count
            entry["frames"] += frames or 0
            entry["seconds"] = round(entry["seconds"] + (seconds or 0.0), 2)
        return {"path": str(self.path), "bytes": self.size_bytes(), "layers": layers}

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class IndexStore:
    """Where video indexes live (``VIDAGENT_CACHE_DIR/index``); ``VIDAGENT_INDEX=off`` turns indexing off
    (the tools then keep what they computed in memory only)."""

    def __init__(self, root: str | os.PathLike[str] | None = None, *, enabled: bool = True):
        self.root = Path(root) if root is not None else default_index_root()
        self.enabled = enabled
        self._open: dict[str, VideoIndex] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> IndexStore:
        return cls(enabled=os.environ.get("VIDAGENT_INDEX", "on").lower() not in {"off", "0", "false"})

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.sqlite"

    def of(self, sha256: str, duration_s: float | None = None) -> VideoIndex | None:
        """The index of a video (created empty when new); None when indexing is off."""
        if not self.enabled:
            return None
        with self._lock:
            index = self._open.get(sha256)
            if index is None:
                index = self._open[sha256] = VideoIndex(self.path_of(sha256), sha256, duration_s)
            return index

    def check_room(self, duration_s: float) -> None:
        """Refuse, before any work, a video whose index would not fit on the disk."""
        self.root.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.root).free
        needed = int(duration_s / 60 * BYTES_PER_MINUTE) + MIN_FREE_BYTES
        if free < needed:
            raise VideoIndexError(f"not enough disk room for the index of a {duration_s / 60:.0f}-minute video under "
                              f"{self.root}: {free / 2**20:.0f} MB free, about {needed / 2**20:.0f} MB needed",
                              "free disk space, or put the index elsewhere with VIDAGENT_CACHE_DIR=/bigger/disk")

    @contextlib.contextmanager
    def exclusive(self, sha256: str, *, wait: bool = True, say: Any = print) -> Iterator[None]:
        """One indexer per video across processes (an advisory ``flock``). A second one waits for the first
        (then finds its chunks done) or, with ``wait=False``, stops with a clear error."""
        import fcntl  # noqa: PLC0415  (POSIX; the index is not built concurrently elsewhere)

        lock_path = self.path_of(sha256).with_suffix(".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                if not wait:
                    raise VideoIndexError(f"this video is being indexed by {holder}",
                                      "wait for it to finish (its chunks are then reused), or stop it") from None
                say(f"waiting for {holder}, which is indexing this video; its chunks will be reused")
                fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)
