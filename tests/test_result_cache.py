"""The on-disk tool-result cache: keys, disable/clear, and many processes writing at once."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from vidagent.tools.cache import ResultCache, canonical_json
from vidagent.tools.results import ScoredSpan, GroundingResult


def _result(i: int) -> GroundingResult:
    return GroundingResult(query=f"q{i}", spans=[ScoredSpan(float(i), i + 1.0, 0.5)])


def test_roundtrip_and_key_parts(tmp_path: Path):
    cache = ResultCache(tmp_path / "c.sqlite")
    cache.put("sha", "ground_moment", {"query": "a"}, "clip-v1", result=_result(1))
    assert cache.get("sha", "ground_moment", {"query": "a"}, "clip-v1", result_type=GroundingResult) == _result(1)
    for changed in [("sha2", "ground_moment", {"query": "a"}, "clip-v1"), ("sha", "other", {"query": "a"}, "clip-v1"),
                    ("sha", "ground_moment", {"query": "b"}, "clip-v1"), ("sha", "ground_moment", {"query": "a"}, "clip-v2")]:
        assert cache.get(*changed, result_type=GroundingResult) is None
    assert (cache.hits, cache.misses) == (1, 4)


def test_canonical_arguments():
    assert canonical_json({"b": 1, "a": [1.0, 2]}) == canonical_json({"a": [1, 2.0], "b": 1.0})


def test_disable_and_clear(tmp_path: Path):
    off = ResultCache(tmp_path / "off.sqlite", enabled=False)
    off.put("sha", "t", {}, "f", result=_result(1))
    assert off.get("sha", "t", {}, "f", result_type=GroundingResult) is None and not (tmp_path / "off.sqlite").exists()
    cache = ResultCache(tmp_path / "c.sqlite")
    cache.put("v1", "t", {}, "f", result=_result(1))
    cache.put("v2", "t", {}, "f", result=_result(2))
    assert cache.clear("v1") == 1 and len(cache) == 1
    assert cache.clear() == 1 and len(cache) == 0


def test_default_location_follows_env(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path / "cachedir"))
    assert ResultCache().path == tmp_path / "cachedir" / "tool_results.sqlite"
    monkeypatch.setenv("VIDAGENT_RESULT_CACHE", "off")
    assert not ResultCache.from_env().enabled


def _writer(args: tuple[str, int]) -> int:
    path, worker = args
    cache = ResultCache(path)
    for i in range(40):
        cache.put("sha", "t", {"i": i, "w": worker % 2}, "f", result=_result(i))
        cache.get("sha", "t", {"i": i, "w": (worker + 1) % 2}, "f", result_type=GroundingResult)
    return worker


def test_concurrent_processes(tmp_path: Path):
    path = str(tmp_path / "shared.sqlite")
    ResultCache(path)  # create the schema once
    with mp.get_context("spawn").Pool(4) as pool:
        assert sorted(pool.map(_writer, [(path, w) for w in range(4)])) == [0, 1, 2, 3]
    cache = ResultCache(path)
    assert len(cache) == 80  # 40 keys x 2 worker parities, overwritten atomically, none lost or torn
    assert cache.get("sha", "t", {"i": 7, "w": 1}, "f", result_type=GroundingResult) == _result(7)
