"""detect_objects: tracking, counts, colors, class names and weight errors, with a fake YOLO model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tool_fakes import FakeYolo, fake_detector, tools_over
from vidagent.tools import VideoSession
from vidagent.tools.colors import PALETTE, box_color
from vidagent.tools.detector import ObjectDetector, renumbered
from vidagent.tools.results import Track
from vidagent.tools.results import Box
from vidagent.tools.tracklets import Tracklet, drop_weak, merge_duplicates, merge_fragments


def test_one_moving_object_is_one_track(tiny_video: Path):
    detect = tools_over(fake_detector())["detect_objects"]
    result = detect(VideoSession(tiny_video), start_s=0.0, end_s=6.0)
    assert result.counts == {"person": 1}
    assert result.max_simultaneous == {"person": 1}
    track = result.tracks[0]
    assert track.first_s == 0.0 and track.last_s >= 5.0
    assert track.color == "white"
    xs = [b.x1 for b in track.boxes]
    assert xs == sorted(xs)  # the square moves right


def test_track_ids_are_stable_across_calls_and_spans(tiny_video: Path):
    detector = fake_detector()
    session = VideoSession(tiny_video)
    detect = tools_over(detector)["detect_objects"]
    whole = detect(session, start_s=0.0, end_s=6.0)
    part = detect(session, start_s=2.0, end_s=3.0)
    assert [t.track_id for t in part.tracks] == [t.track_id for t in whole.tracks]
    assert all(2.0 <= b.t_s < 3.0 for b in part.tracks[0].boxes)
    assert detector.model.calls == 30  # the video was detected once (6 s at 5 fps)


def test_kept_tracks_are_numbered_from_one_not_by_the_trackers_candidates(tiny_video: Path):
    result = tools_over(fake_detector())["detect_objects"](VideoSession(tiny_video), start_s=0.0, end_s=6.0)
    assert [t.track_id for t in result.tracks] == [1]
    assert {b.track_id for b in result.tracks[0].boxes} == {1}
    # ByteTrack's raw ids (57, 111) become 1, 2 in first-seen order; a later chunk keeps its offset
    raw = [Track(57, "coin", "gold", 0.0, 1.0, [Box(0.0, 1, 1, 5, 5, "coin", 57)]),
           Track(111, "coin", "gold", 0.5, 2.0, [Box(0.5, 9, 9, 15, 15, "coin", 111)])]
    assert [(t.track_id, t.boxes[0].track_id) for t in renumbered(raw)] == [(1, 1), (2, 2)]
    assert [t.track_id for t in renumbered(raw, 10_000)] == [10_001, 10_002]
    assert raw[0].track_id == 57  # the input is not changed


def test_a_short_occlusion_keeps_the_track(tiny_video: Path):
    detector = fake_detector()
    detector.model = FakeYolo(drop={10, 11, 12, 13})  # 0.8 s without detections
    result = tools_over(detector)["detect_objects"](VideoSession(tiny_video), start_s=0.0, end_s=6.0)
    assert result.counts == {"person": 1}


def tracklet(track_id: int, label: str, color: str, *boxes: tuple[float, float, float], size: float = 20.0) -> Tracklet:
    """A tracklet from (t_s, x1, y1) corners of ``size`` x 10 boxes, every box read as ``color``."""
    return Tracklet(track_id, [Box(t, x, y, x + size, y + 10, label, track_id, 0.9) for t, x, y in boxes],
                    [color] * len(boxes))


def test_fragments_of_one_object_are_merged_but_not_other_colors_far_apart_in_time():
    a = tracklet(1, "car", "red", (0.0, 0, 0), (1.0, 10, 0))
    b = tracklet(2, "car", "red", (4.0, 30, 0), (5.0, 40, 0))  # same color: a 3 s gap is an occlusion
    c = tracklet(3, "car", "blue", (4.0, 30, 40), (5.0, 40, 40))  # another color 3 s later: another car
    merged = merge_fragments([a, b, c], frame_width=320, max_gap_s=5.0, recolor_gap_s=2.0)
    assert sorted((t.track_id, t.color) for t in merged) == [(1, "red"), (3, "blue")]
    assert merged[0].last_s == 5.0 and all(box.track_id == 1 for box in merged[0].boxes)


def test_a_quick_join_merges_even_when_the_color_read_changed():
    """A person walking away shrinks until the outline dominates its color: green, then "black"."""
    near = tracklet(1, "person", "green", (0.0, 100, 50), (1.0, 90, 50), size=40)
    far = tracklet(2, "person", "black", (1.4, 85, 50), (2.0, 80, 50), (2.4, 78, 50), size=8)
    (person,) = merge_fragments([near, far], frame_width=320, recolor_gap_s=2.0)
    assert person.to_track().color == "green"  # colors are voted by box area: the big boxes win
    assert len(person.to_track().boxes) == 5


def test_one_object_detected_as_two_classes_is_one_track():
    ball = tracklet(1, "ball", "white", *[(t / 5, 200, 150) for t in range(20)])
    box = tracklet(2, "box", "white", *[(t / 5, 201, 151) for t in range(8)])
    other = tracklet(3, "box", "white", *[(t / 5, 20, 150) for t in range(8)])  # elsewhere: a second object
    kept = merge_duplicates([ball, box, other])
    assert sorted((t.label, len(t.boxes)) for t in kept) == [("ball", 20), ("box", 8)]


def test_weak_tracklets_are_dropped():
    short = tracklet(1, "dog", "red", (0.0, 0, 0), (0.2, 1, 0))
    assert drop_weak([short], min_frames=4, min_conf=0.0) == []
    assert drop_weak([short], min_frames=2, min_conf=0.95) == []
    assert drop_weak([short], min_frames=2, min_conf=0.5) == [short]


def test_classes_filter_plurals_and_every_class_words(tiny_video: Path):
    detect = tools_over(fake_detector())["detect_objects"]
    session = VideoSession(tiny_video)
    assert detect(session, start_s=0.0, end_s=6.0, classes=["people"]).counts == {"person": 1}
    assert detect(session, start_s=0.0, end_s=6.0, classes=["cars"]).counts == {}
    for every in (["objects"], ["anything"], ["everything"], [], None):
        assert detect(session, start_s=0.0, end_s=6.0, classes=every).counts == {"person": 1}


def test_unknown_class_lists_the_known_ones(tiny_video: Path):
    tool = tools_over(fake_detector())["detect_objects"]
    call = tool.invoke(VideoSession(tiny_video), {"start_s": 0.0, "end_s": 2.0, "classes": ["unicorn"]})
    assert not call.ok and "unicorn" in call.text and "person, car, ball" in call.text


def test_bad_spans_are_error_observations(tiny_video: Path):
    tool = tools_over(fake_detector())["detect_objects"]
    session = VideoSession(tiny_video)
    assert "outside the video" in tool.invoke(session, {"start_s": 50.0, "end_s": 60.0}).text
    assert "empty time range" in tool.invoke(session, {"start_s": 2.0, "end_s": 2.0}).text


def test_missing_and_corrupt_weights_name_the_file_and_the_fix(tmp_path: Path, tiny_video: Path):
    session = VideoSession(tiny_video)
    missing = tools_over(ObjectDetector(tmp_path / "nope.pt"))["detect_objects"].invoke(
        session, {"start_s": 0.0, "end_s": 1.0})
    assert not missing.ok and "nope.pt" in missing.error and "train_detector" in missing.error
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    corrupt = tools_over(ObjectDetector(bad))["detect_objects"].invoke(session, {"start_s": 0.0, "end_s": 1.0})
    assert not corrupt.ok and "bad.pt" in corrupt.error and "cannot be loaded" in corrupt.error


def test_fingerprint_changes_with_the_weights_file(tmp_path: Path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"a")
    before = ObjectDetector(weights).fingerprint()
    weights.write_bytes(b"ab")
    assert ObjectDetector(weights).fingerprint() != before


@pytest.mark.parametrize("name", list(PALETTE))
def test_box_color_names_each_palette_color_on_grass(name: str):
    image = np.zeros((60, 60, 3), np.uint8)
    image[:] = (80, 150, 65)  # park lawn, close to "green"
    image[20:40, 20:40] = PALETTE[name]
    assert box_color(image, (20, 20, 40, 40))[0] == name


def test_a_kind_of_thing_asks_for_the_classes_of_that_kind_the_detector_knows():
    from vidagent.errors import ToolError
    from vidagent.tools.coco import CLASS_ALIASES, COCO_CLASSES
    from vidagent.tools.default_tools import resolve_classes

    assert resolve_classes(["animal"], COCO_CLASSES, CLASS_ALIASES) >= {"bird", "dog", "horse", "cat"}
    assert resolve_classes(["Vehicles"], COCO_CLASSES) == {"bicycle", "car", "motorcycle", "airplane", "bus",
                                                           "train", "truck", "boat"}
    world = ["person", "car", "bicycle", "dog", "bird", "ball", "box"]
    assert resolve_classes(["animals"], world) == {"dog", "bird"}  # only the kinds this backend has
    assert resolve_classes(["vehicle", "people"], world) == {"car", "bicycle", "person"}
    assert resolve_classes(["objects"], world) is None  # every class
    with pytest.raises(ToolError, match=r"unknown class \['food'\]"):
        resolve_classes(["food"], world)  # a kind the backend has no class of
