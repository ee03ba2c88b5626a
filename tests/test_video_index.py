"""The video index: stored once, served to later sessions without decoding, resumable, guarded."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from vidagent.cli import main
from vidagent.errors import ConfigError
from vidagent.tools.detector import ObjectDetector
from vidagent.tools.indexing import index_video, shot_cuts, video_files
from vidagent.tools.video import FrameCache, VideoSession, write_video
from vidagent.tools.video_index import IndexStore, VideoIndexError
from vidagent.tools.world_models import WorldModels

WORLD = Path(__file__).resolve().parents[1] / "examples" / "world"
STREET = WORLD / "street.mp4"


def world_models(chunk_s: float = 4.0) -> WorldModels:
    """The world's models with short chunks, so a bundled 10-20 s video has several."""
    return WorldModels(detector=ObjectDetector(chunk_s=chunk_s))


@pytest.fixture(scope="module")
def models() -> WorldModels:
    return world_models()


def test_store_keeps_chunks_by_layer_and_fingerprint(tmp_path: Path):
    index = IndexStore(tmp_path).of("ab" * 32, 60.0)
    index.put("tracks", 0, "v1", {"tracks": [1, 2]}, frames=10, seconds=1.5)
    index.fail("tracks", 1, "v1", "truncated")
    assert index.get("tracks", 0, "v1") == {"tracks": [1, 2]}
    assert index.get("tracks", 0, "v2") is None and index.get("tracks", 1, "v1") is None
    assert index.status("tracks", "v1") == {0: None, 1: "truncated"}
    index.put("tracks", 0, "v0", {}, frames=1)
    assert index.other_fingerprints("tracks", "v1") == ["v0"]
    assert index.drop_others({"tracks": "v1"}) == 1 and index.other_fingerprints("tracks", "v1") == []
    assert index.meta()["duration_s"] == "60.0" and index.path.name == "ab" * 32 + ".sqlite"


def test_a_second_session_reads_the_index_without_decoding(tmp_path: Path, models: WorldModels):
    store = IndexStore(tmp_path)
    report = index_video(STREET, perception=models, store=store, show_progress=False)
    assert report.complete and report.computed == report.chunks >= 3 and report.frames > 0
    fresh = world_models()  # another process's models: nothing in memory
    session = VideoSession(STREET, index_store=store, frame_cache=FrameCache(10**8))
    tracks, times, frames_used = fresh.detector.tracks_in_span(session, 0.0, session.ref.duration_s)
    assert frames_used == 0 and session.frames_decoded == 0 and tracks and times
    first = models.detector.tracks_in_span(VideoSession(STREET, index_store=None), 0.0, session.ref.duration_s)[0]
    assert [(t.track_id, t.label, t.color, len(t.boxes)) for t in tracks] == \
           [(t.track_id, t.label, t.color, len(t.boxes)) for t in first]
    again = index_video(STREET, perception=models, store=store, show_progress=False)
    assert (again.computed, again.reused, again.frames) == (0, report.chunks, 0)


def test_an_interrupted_run_resumes_and_loses_at_most_the_chunk_in_flight(tmp_path: Path, monkeypatch):
    store = IndexStore(tmp_path)
    models = world_models()
    real_track = ObjectDetector.track_frames
    calls = {"n": 0}

    def dies_on_the_third_chunk(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_track(self, *args, **kwargs)

    monkeypatch.setattr(ObjectDetector, "track_frames", dies_on_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        index_video(STREET, perception=models, store=store, show_progress=False)
    monkeypatch.setattr(ObjectDetector, "track_frames", real_track)
    resumed = index_video(STREET, perception=world_models(), store=store, show_progress=False)
    assert resumed.reused == 2 and resumed.computed == resumed.chunks - 2 and resumed.complete


def test_chunks_from_other_model_versions_are_reported_not_served(tmp_path: Path, models: WorldModels, capsys):
    store = IndexStore(tmp_path)
    session = VideoSession(STREET, index_store=store)
    session.index.put("tracks", 0, "yolo:older-weights", {"tracks": []})
    notes: list[str] = []
    report = index_video(STREET, perception=models, store=store, show_progress=False, say=notes.append)
    assert report.computed == report.chunks and report.other_versions == ["yolo:older-weights"]
    assert "other model versions" in notes[0] and "--rebuild" in notes[0]
    rebuilt = index_video(STREET, perception=models, store=store, show_progress=False, rebuild=True)
    assert rebuilt.dropped_other_versions == 1 and rebuilt.reused == rebuilt.chunks


def test_a_second_indexer_of_the_same_video_waits_or_stops_clearly(tmp_path: Path):
    store = IndexStore(tmp_path)
    sha = "cd" * 32
    with store.exclusive(sha):
        with pytest.raises(VideoIndexError, match="being indexed by pid"):
            with store.exclusive(sha, wait=False):
                pass
    with store.exclusive(sha, wait=False):  # released: free again
        pass


def test_no_disk_room_is_refused_before_any_work(tmp_path: Path, monkeypatch):
    store = IndexStore(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(VideoIndexError, match="not enough disk room") as error:
        index_video(STREET, perception=world_models(), store=store, show_progress=False)
    assert "VIDAGENT_CACHE_DIR" in error.value.fix
    assert not list(tmp_path.rglob("*.sqlite"))


def test_a_truncated_video_keeps_the_chunks_it_can_read(tmp_path: Path):
    frames = [np.full((96, 128, 3), (i * 3) % 250, np.uint8) for i in range(120)]
    whole = write_video(tmp_path / "whole.mp4", frames, fps=10)
    session = VideoSession(whole, index_store=None)
    # the header says 12 s; make frames past 8 s undecodable, as a file cut short by a failed copy is
    from vidagent.tools import video as video_module

    real_decode = video_module.decode_frames

    def cut_short(ref, indices, decoder="auto"):
        if max(indices) >= 80:
            raise video_module.VideoError(f"{ref.path} is truncated: frame {max(indices)} requested, 80 decodable",
                                          "re-export the video")
        return real_decode(ref, indices, decoder)

    video_module.decode_frames = cut_short
    try:
        report = index_video(session.ref, perception=world_models(), store=IndexStore(tmp_path / "ix"),
                             show_progress=False)
    finally:
        video_module.decode_frames = real_decode
    assert report.computed == 2 and sorted(report.failed) == [2] and "truncated" in report.failed[2]
    assert "1 chunk(s) failed from 2 on" in report.line() and not report.complete


def test_shot_cuts_are_found_between_chunks_too(tmp_path: Path):
    colors = [(200, 30, 30)] * 25 + [(30, 30, 200)] * 25 + [(30, 200, 30)] * 30  # cuts at 2.5 s and 5.0 s
    frames = [np.full((72, 96, 3), c, np.uint8) for c in colors]
    path = write_video(tmp_path / "cuts.mp4", frames, fps=10)
    from vidagent.tools.indexing import shots_chunk

    detector = ObjectDetector(chunk_s=4.0, sample_fps=2.0)
    session = VideoSession(path, index_store=None)
    chunks = [shots_chunk(session, detector, i) for i in range(2)]
    assert shot_cuts(chunks) == [2.25, 4.75]  # midway between the samples either side of each cut


def test_index_command_reports_and_checks_its_input(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("VIDAGENT_INDEX", "on")
    monkeypatch.setattr("vidagent.tools.video._SHARED_INDEX_STORE", None)
    assert main(["index", str(WORLD / "park.mp4"), "--tools", "world", "--json"]) == 0
    assert '"complete": true' in capsys.readouterr().out
    assert main(["index", str(tmp_path / "missing.mp4")]) == 2
    assert "video not found" in capsys.readouterr().err
    assert main(["index", str(WORLD), "--workers", "0"]) == 2
    assert "--workers must be >= 1" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no video files"):
        video_files([empty])


@pytest.mark.slow
def test_worker_processes_index_the_same_chunks(tmp_path: Path):
    serial = index_video(STREET, profile="world", store=IndexStore(tmp_path / "a"), show_progress=False)
    parallel = index_video(STREET, profile="world", store=IndexStore(tmp_path / "b"), workers=2,
                           show_progress=False)
    assert parallel.computed == serial.computed == serial.chunks and parallel.complete
    a = IndexStore(tmp_path / "a").of(serial.sha256)
    b = IndexStore(tmp_path / "b").of(serial.sha256)
    fingerprint = next(iter(a.status("tracks", fp) and fp for fp in
                            [r[0] for r in a._connect().execute("SELECT DISTINCT fingerprint FROM chunks "
                                                                "WHERE layer='tracks'")]))
    for chunk in range(serial.chunks):
        assert a.get("tracks", chunk, fingerprint) == b.get("tracks", chunk, fingerprint)


@pytest.mark.slow
def test_ray_local_mode_with_two_workers_indexes_a_folder(tmp_path: Path):
    pytest.importorskip("ray")
    from vidagent.tools.ray_engine import index_with_ray

    videos = [WORLD / "park.mp4", WORLD / "beach.mp4"]
    reports = index_with_ray(videos, profile="world", workers=2, store=IndexStore(tmp_path))
    assert [Path(r.video).name for r in reports] == ["park.mp4", "beach.mp4"]
    assert all(r.complete and r.computed == r.chunks for r in reports)
    again = index_video(videos[0], profile="world", store=IndexStore(tmp_path), show_progress=False)
    assert again.computed == 0 and again.reused == reports[0].chunks


def test_segment_edges_group_many_shots_and_split_long_ones():
    from vidagent.tools.index_tools import boundaries

    edges, merged = boundaries(0.0, 100.0, [40.0])
    assert not merged and 40.0 in edges and max(b - a for a, b in zip(edges, edges[1:])) <= 25.0
    assert boundaries(0.0, 8.0, [2.5, 4.9]) == ([0.0, 2.5, 4.9, 8.0], False)  # short shots are never split
    edges, merged = boundaries(0.0, 100.0, [float(c) for c in range(3, 100, 3)], most=4)
    assert merged and len(edges) == 5 and edges[0] == 0.0 and edges[-1] == 100.0
    assert boundaries(0.0, 10.0, [0.1, 5.0, 9.95])[0][:2] == [0.0, 5.0]  # slivers at the edges dropped
    single, _ = boundaries(0.0, 3600.0, [], most=8)
    assert len(single) == 5 and max(b - a for a, b in zip(single, single[1:])) <= 2 * 3600 / 8


def test_list_segments_lists_the_shots_of_a_span(tmp_path: Path):
    from vidagent.tools.index_tools import SegmentTools

    colors = [(200, 30, 30)] * 25 + [(30, 30, 200)] * 25 + [(30, 200, 30)] * 30
    path = write_video(tmp_path / "cuts.mp4", [np.full((72, 96, 3), c, np.uint8) for c in colors], fps=10)
    tool = SegmentTools(world_models()).tools()[0]
    session = VideoSession(path, index_store=IndexStore(tmp_path / "ix"))
    call = tool.invoke(session, {})
    assert call.ok and call.text.startswith("3 segments in 0.0-8.0s (2 shot cuts):")
    # the world detector samples 5 frames/s: each cut lies midway between the samples either side of it
    assert [(s.start_s, s.end_s) for s in call.result.segments] == [(0.0, 2.5), (2.5, 4.9), (4.9, 8.0)]
    assert "no objects" in call.text and session.frames_seen == 0  # the index's frames, not the budget's
    inside = tool.invoke(session, {"start_s": 2.5, "end_s": 4.9})
    assert inside.ok and inside.result.cuts == 0 and inside.result.segments[0].start_s == 2.5


@pytest.mark.slow
def test_kill_9_during_indexing_loses_at_most_the_chunk_in_flight(tmp_path: Path):
    """A real `vidagent index` process killed with SIGKILL after its first chunk: the run again computes only
    what is missing, and the index it leaves is complete."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    frames = (np.full((96, 128, 3), (i // 30 * 40) % 250, np.uint8) for i in range(150 * 10))
    video = write_video(tmp_path / "long.mp4", frames, fps=10)  # 150 s: 3 chunks of the world detector's 60 s
    env = {**os.environ, "VIDAGENT_CACHE_DIR": str(tmp_path / "cache"), "VIDAGENT_INDEX": "on"}
    command = [sys.executable, "-m", "vidagent", "index", str(video), "--tools", "world", "--json"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    database = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = list((tmp_path / "cache" / "index").rglob("*.sqlite"))
        if found:
            database = found[0]
            with sqlite3.connect(database) as conn:
                done = conn.execute("SELECT COUNT(*) FROM chunks WHERE layer='shots' AND status='done'").fetchone()[0]
            if done >= 1:
                break
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert database is not None and done >= 1, "the indexer never finished a chunk"
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    import json

    report = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert report["complete"] and report["reused"] >= 1 and report["reused"] + report["computed"] == report["chunks"] == 3
