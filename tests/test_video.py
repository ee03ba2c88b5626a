"""Video access: metadata, sampling, both decoders, the frame cache and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import moving_square_frames
from vidagent.errors import BudgetError, TimeRangeError, VideoError
from vidagent.tools.video import FrameCache, VideoRef, VideoSession, sample_frames, sample_indices, write_video


def test_metadata(tiny_video: Path):
    ref = VideoRef.open(tiny_video)
    assert (ref.width, ref.height, ref.fps, ref.frame_count, ref.codec) == (320, 240, 10.0, 60, "h264")
    assert ref.duration_s == pytest.approx(6.0)
    assert len(ref.sha256) == 64


def test_sample_by_count_spreads_over_range(tiny_video: Path):
    ref = VideoRef.open(tiny_video)
    assert sample_indices(ref, 0, 6, count=6) == [5, 15, 25, 35, 45, 55]
    assert sample_indices(ref, 2, 4, fps=2) == [20, 25, 30, 35]


@pytest.mark.parametrize("decoder", ["decord", "pyav"])
def test_decoders_return_the_requested_frames(tiny_video: Path, decoder: str):
    ref = VideoRef.open(tiny_video)
    frames = sample_frames(ref, 0, 6, count=5, cache=FrameCache(10**8), decoder=decoder)
    assert frames.images.shape == (5, 240, 320, 3)
    expected = np.stack(list(moving_square_frames(60)))[frames.indices, 0, 0, 0].astype(int)
    # H.264 is lossy: the red channel that encodes the index stays within a few levels.
    assert np.abs(frames.images[:, 0, 0, 0].astype(int) - expected).max() <= 6
    assert frames.times_s == [i / 10 for i in frames.indices]


def test_auto_falls_back_to_pyav_when_decord_fails(tiny_video: Path, monkeypatch: pytest.MonkeyPatch):
    import vidagent.tools.video as video

    def broken(*args, **kwargs):
        raise RuntimeError("decord seek bug")

    monkeypatch.setattr(video, "_decode_decord", broken)
    frames = sample_frames(VideoRef.open(tiny_video), 0, 6, count=3, cache=FrameCache(10**8), decoder="auto")
    assert len(frames) == 3


def test_cache_serves_repeated_samples_and_stays_bounded(tiny_video: Path):
    ref = VideoRef.open(tiny_video)
    frame_bytes = 240 * 320 * 3
    cache = FrameCache(max_bytes=frame_bytes * 4)
    first = sample_frames(ref, 0, 6, count=4, cache=cache)
    second = sample_frames(ref, 0, 6, count=4, cache=cache)
    assert (first.decoded, second.decoded) == (4, 0)
    np.testing.assert_array_equal(first.images, second.images)
    sample_frames(ref, 0, 6, count=10, cache=cache)  # more than the bound holds
    assert cache.bytes <= cache.max_bytes and cache.peak_bytes <= cache.max_bytes
    assert len(cache) == 4


def test_resize_is_cached_separately(tiny_video: Path):
    ref = VideoRef.open(tiny_video)
    cache = FrameCache(10**8)
    small = sample_frames(ref, 0, 6, count=2, size=(64, 48), cache=cache)
    assert small.images.shape == (2, 48, 64, 3)
    assert sample_frames(ref, 0, 6, count=2, cache=cache).decoded == 2


def test_session_counts_frames_against_budget(tiny_video: Path):
    session = VideoSession(tiny_video, frame_budget=10, frame_cache=FrameCache(10**8))
    session.sample(0, 6, count=8)
    assert session.frames_seen == 8 and session.take_notes() == []
    thinned = session.sample(0, 6, count=3)  # 2 left: both used, evenly spread, and a note says so
    assert len(thinned) == 2 and session.frames_seen == 10
    assert session.take_notes() == ["looked at 2 of the 3 frames asked for 0.0-6.0s: the frame budget (10) "
                                    "had no more left"]
    with pytest.raises(BudgetError, match="frame budget exhausted"):
        session.sample(0, 6, count=1)


def test_index_frames_do_not_count_against_the_budget(tiny_video: Path):
    session = VideoSession(tiny_video, frame_budget=5, frame_cache=FrameCache(10**8), index_store=None)
    session.sample(0, 6, fps=5, indexing=True)
    assert (session.frames_indexed, session.frames_seen) == (30, 0)
    assert len(session.sample(0, 6, count=4)) == 4


# --- bad input -------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path):
    with pytest.raises(VideoError, match="video not found") as info:
        VideoRef.open(tmp_path / "nope.mp4")
    assert info.value.fix


def test_directory(tmp_path: Path):
    with pytest.raises(VideoError, match="is a directory"):
        VideoRef.open(tmp_path)


def test_empty_file(tmp_path: Path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(VideoError, match="empty"):
        VideoRef.open(tmp_path / "empty.mp4")


def test_non_video_file(tmp_path: Path):
    (tmp_path / "notes.mp4").write_text("just some text, not a video\n" * 50)
    with pytest.raises(VideoError, match="not a video file"):
        VideoRef.open(tmp_path / "notes.mp4")


def test_audio_only_file_has_no_video_stream(tmp_path: Path):
    import av

    path = tmp_path / "audio.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(VideoError, match="no video stream"):
        VideoRef.open(path)


def test_truncated_video(tiny_video: Path, tmp_path: Path):
    data = tiny_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoError):
        ref = VideoRef.open(cut)
        sample_frames(ref, 0, ref.duration_s, count=6, cache=FrameCache(10**8), decoder="pyav")


def test_unsupported_codec(tiny_video: Path, tmp_path: Path):
    # Rename the H.264 sample entry to a fourcc no decoder knows: the container parses, the codec does not.
    path = tmp_path / "unknown_codec.mp4"
    path.write_bytes(tiny_video.read_bytes().replace(b"avc1", b"zzzz"))
    with pytest.raises(VideoError, match="codec this ffmpeg cannot decode") as info:
        VideoRef.open(path)
    assert "libx264" in info.value.fix


@pytest.mark.parametrize(("start", "end", "message"), [
    (-1, 2, "outside the video"), (7, 8, "outside the video"), (3, 3, "empty time range"),
    (4, 2, "empty time range"), (float("nan"), 2, "not finite"),
])
def test_time_range_outside_video(tiny_video: Path, start: float, end: float, message: str):
    with pytest.raises(TimeRangeError, match=message):
        sample_indices(VideoRef.open(tiny_video), start, end, count=2)


def test_zero_frames_requested(tiny_video: Path):
    with pytest.raises(TimeRangeError, match="positive"):
        sample_indices(VideoRef.open(tiny_video), 0, 2, count=0)


def test_write_video_needs_frames(tmp_path: Path):
    with pytest.raises(VideoError, match="no frames"):
        write_video(tmp_path / "none.mp4", [], fps=10)


def test_snap_to_keyframes_picks_keyframes_inside_the_range(tmp_path: Path):
    from vidagent.tools.video import keyframe_indices

    path = write_video(tmp_path / "gop.mp4", moving_square_frames(60), fps=10, keyframe_interval=20)
    ref = VideoRef.open(path)
    assert keyframe_indices(ref) == [0, 20, 40]
    assert sample_indices(ref, 0, 6, count=6, snap_to_keyframes=True) == [0, 20, 40]
    assert sample_indices(ref, 1, 3, count=2, snap_to_keyframes=True) == [20]
    # No keyframe inside the range: exact frames, never frames from outside it.
    assert sample_indices(ref, 2.5, 3.5, count=2, snap_to_keyframes=True) == [28, 32]
    frames = sample_frames(ref, 0, 6, count=6, cache=FrameCache(10**8), decoder="pyav", snap_to_keyframes=True)
    assert frames.indices == [0, 20, 40] and frames.times_s == [0.0, 2.0, 4.0]
