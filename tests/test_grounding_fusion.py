"""ground_moment's fused backend: query parsing, spans from window labels, events, routing to CLIP.

No model weights load here: the vocabulary is written out, tracks and window probabilities are hand-made,
and the action model is a stub.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from vidagent.errors import ToolError
from vidagent.tools import VideoSession
from vidagent.tools.action import CLIP_FRAMES, STEP_S
from vidagent.tools.fused_grounding import (
    ParsedQuery,
    Subject,
    TrackWindows,
    Vocabulary,
    action_spans,
    candidate_spans,
    classify_windows,
    collision_span,
    event_span,
    non_overlapping,
    parse_query,
)
from vidagent.tools.grounding import MomentGrounder
from vidagent.tools.results import Box, ScoredSpan, Track
from vidagent.words import canonical

ACTIONS = ("walk", "run", "jump", "fall", "lie", "stand", "wave", "drive", "ride", "stop", "still", "roll",
           "bounce", "slide", "fly")
VOCAB = Vocabulary(
    classes=("person", "car", "bicycle", "dog", "ball", "bird", "box"),
    colors=("red", "green", "blue", "yellow", "orange", "purple", "white", "black"),
    actions=ACTIONS,
    class_actions={"person": ("fall", "jump", "lie", "run", "stand", "walk", "wave"), "car": ("drive", "still", "stop"),
                   "bicycle": ("ride", "still", "stop"), "ball": ("bounce", "roll", "still"), "bird": ("fly", "stand"),
                   "dog": ("jump", "run", "stand", "walk"), "box": ("slide", "still")},
)


@pytest.mark.parametrize(("word", "lemma"), [
    ("stops", "stop"), ("flies", "fly"), ("runs", "run"), ("bounces", "bounce"), ("running", "run"),
    ("waving", "wave"), ("stopped", "stop"), ("ran", "run"), ("boxes", "box"), ("people", "person"),
    ("leaves", "leave"), ("xyzzy", "xyzzy"),
])
def test_query_words_lemmatise_toward_the_vocabulary(word: str, lemma: str):
    assert canonical(word, VOCAB.words()) == lemma


@pytest.mark.parametrize(("query", "expected"), [
    ("the red car stops", ParsedQuery(Subject("car", "red"), ("stop",))),
    ("the black bird flies", ParsedQuery(Subject("bird", "black"), ("fly",))),
    ("The yellow ball bounces.", ParsedQuery(Subject("ball", "yellow"), ("bounce",))),
    ("a person in blue is running", ParsedQuery(Subject("person", "blue"), ("run",))),
    ("the green person stands still", ParsedQuery(Subject("person", "green"), ("stand",))),  # idle: stand
    ("the green car stays still", ParsedQuery(Subject("car", "green"), ("still",))),  # idle: still
    ("the green bicycle rolls along", ParsedQuery(Subject("bicycle", "green"), ("ride",))),
    ("the white ball rolls", ParsedQuery(Subject("ball", "white"), ("roll",))),
    ("the red person lies on the ground", ParsedQuery(Subject("person", "red"), ("lie",))),
    ("people walking", ParsedQuery(Subject("person", None), ("walk",))),
    ("someone jumps", ParsedQuery(Subject(None, None), ("jump",))),
    ("the red car", ParsedQuery(Subject("car", "red"))),
    ("the blue dog enters", ParsedQuery(Subject("dog", "blue"), event="enter")),
    ("the orange car leaves", ParsedQuery(Subject("car", "orange"), event="leave")),
    ("the white ball hits the purple box",
     ParsedQuery(Subject("ball", "white"), event="collide", other=Subject("box", "purple"))),
    # synonyms and phrases of vidagent.words
    ("the red vehicle halts", ParsedQuery(Subject("car", "red"), ("stop",))),
    ("a man is not moving", ParsedQuery(Subject("person", None), ("stand",))),
    ("the ball rolls along", ParsedQuery(Subject("ball", None), ("roll",))),
    ("the dog shows up", ParsedQuery(Subject("dog", None), event="enter")),
    ("the white ball crashes into the purple box",
     ParsedQuery(Subject("ball", "white"), event="collide", other=Subject("box", "purple"))),
])
def test_parse_query(query: str, expected: ParsedQuery):
    assert parse_query(query, VOCAB) == expected


@pytest.mark.parametrize("query", [
    "a white square moves",  # unknown words
    "the red car turns left",
    "the car jumps",  # the action model never says a car jumps
    "the red car drives and stops",  # two moments
    "the red car and the blue car stop",  # two subjects
    "red",  # nothing happens
    "",
])
def test_unparseable_queries_give_none(query: str):
    assert parse_query(query, VOCAB) is None


def test_action_spans_from_window_labels():
    labels = ["walk"] * 5 + ["run"] * 4 + ["stand"] + ["run"] * 2 + ["walk"] * 6 + ["run"]
    centres = np.arange(len(labels)) * STEP_S + 0.1  # 0.1, 0.3, ...
    scores = np.array([0.9 if label == "run" else 0.05 for label in labels])
    spans = action_spans(centres, labels, scores, "run")
    # the one-window gap at index 9 is bridged (mid-jump a clip may look like standing); the last
    # window is a run of its own, shorter, so it ranks second
    assert [(s.start_s, s.end_s) for s in spans] == [(1.0, 2.4), (3.6, 3.8)]
    assert spans[0].score > spans[1].score
    strict = action_spans(centres, labels, scores, "run", max_gap=0, min_share=1.1)
    assert [(s.start_s, s.end_s) for s in strict][:2] == [(1.0, 1.8), (2.0, 2.4)]
    # a window whose top label is another action but whose share of "run" is high enough still counts
    scores[5 - 1] = 0.5
    assert action_spans(centres, labels, scores, "run")[0].start_s == 0.8
    clipped = action_spans(centres, labels, scores, "run", bounds=(1.5, 2.0))
    assert (clipped[0].start_s, clipped[0].end_s) == (1.5, 2.0)
    assert action_spans(centres, labels, np.zeros(len(labels)), "fly") == []  # never the top label


def test_non_overlapping_keeps_the_best_of_overlapping_spans():
    spans = [ScoredSpan(0.0, 2.0, 0.5), ScoredSpan(0.2, 2.2, 0.9), ScoredSpan(5.0, 6.0, 0.3)]
    assert non_overlapping(spans, 3) == [ScoredSpan(0.2, 2.2, 0.9), ScoredSpan(5.0, 6.0, 0.3)]
    assert non_overlapping(spans, 1) == [ScoredSpan(0.2, 2.2, 0.9)]
    # one interval_iou (vidagent.answers): the same moment twice is one span, a moment inside a span is not
    points = [ScoredSpan(0.0, 0.0, 0.9), ScoredSpan(0.0, 0.0, 0.8), ScoredSpan(0.0, 1.0, 0.7)]
    assert non_overlapping(points, 3) == [ScoredSpan(0.0, 0.0, 0.9), ScoredSpan(0.0, 1.0, 0.7)]


def _track(track_id: int, label: str, color: str, times: np.ndarray, x: np.ndarray | float = 10.0) -> Track:
    xs = np.broadcast_to(np.asarray(x, float), times.shape)
    boxes = [Box(round(float(t), 3), float(x1), 100.0, float(x1) + 20, 140.0, label, track_id)
             for t, x1 in zip(times, xs, strict=True)]
    return Track(track_id, label, color, boxes[0].t_s, boxes[-1].t_s, boxes)


def test_events_enter_leave_and_collide():
    times = np.arange(10, 30) * STEP_S  # seen 2.0-5.8 s of a 10 s video
    track = _track(1, "car", "red", times)
    assert event_span(track, "enter", 10.0) == ScoredSpan(1.8, 2.0, 1.0)
    assert event_span(track, "leave", 10.0) == ScoredSpan(5.8, 6.0, 1.0)
    from_start = _track(2, "car", "red", np.arange(0, 10) * STEP_S)
    assert event_span(from_start, "enter", 10.0).score < 0.5  # on screen from the first frame
    ball = _track(3, "ball", "white", times, x=np.linspace(0, 200, len(times)))
    box = _track(4, "box", "purple", times, x=100.0)
    hit = collision_span(ball, box, 10.0)
    assert hit is not None and hit.score == 1.0
    first_touch = next(b.t_s for b in ball.boxes if b.x2 >= 100.0)
    assert hit.start_s <= first_touch <= hit.end_s


def test_candidate_spans_prefer_the_queried_color():
    centres = np.arange(20) * STEP_S + 0.1
    run = np.zeros((20, len(ACTIONS)), np.float32)
    run[:, ACTIONS.index("drive")] = 1.0
    run[8:14, ACTIONS.index("drive")] = 0.0
    run[8:14, ACTIONS.index("stop")] = 1.0  # the red car stops at 1.6-2.8 s
    other = np.zeros_like(run)
    other[:, ACTIONS.index("drive")] = 1.0
    other[16:, ACTIONS.index("drive")] = 0.0
    other[16:, ACTIONS.index("stop")] = 1.0  # the blue car stops later
    red, blue = _track(1, "car", "red", np.arange(20) * STEP_S), _track(2, "car", "blue", np.arange(20) * STEP_S)
    windows = {1: TrackWindows(centres, run), 2: TrackWindows(centres, other)}
    parsed = parse_query("the red car stops", VOCAB)
    assert parsed is not None
    spans = non_overlapping(candidate_spans(parsed, [red, blue], lambda t: windows[t.track_id], VOCAB, 10.0), 3)
    assert (spans[0].start_s, spans[0].end_s) == pytest.approx((1.6, 2.8), abs=0.21)
    assert spans[0].score > spans[1].score  # the blue car comes after, as a last resort
    assert candidate_spans(parse_query("the red dog runs", VOCAB), [red, blue], lambda t: windows[t.track_id],
                           VOCAB, 10.0) == []  # no dog: nothing, so the grounder falls back to CLIP


class _StubBackend:
    """An action model that always says "walk"; records the clips it is shown."""

    labels = list(ACTIONS)
    class_actions: dict[str, list[str]] = {}

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def predict(self, crops: np.ndarray, traj: np.ndarray) -> np.ndarray:
        self.shapes.append(crops.shape)
        probs = np.zeros((len(crops), len(ACTIONS)), np.float32)
        probs[:, 0] = 1.0
        return probs


def test_classify_windows_slides_one_clip_per_step(tiny_video: Path):
    backend = _StubBackend()
    recognizer = SimpleNamespace(setup=lambda: None, backend=backend, crop=32, labels=list(ACTIONS),
                                 mask_by_class=lambda p, label: p)
    track = _track(1, "person", "white", np.arange(5, 16) * STEP_S)  # seen 1.0-3.0 s
    windows = classify_windows(VideoSession(tiny_video), track, recognizer)  # type: ignore[arg-type]
    # clip middles run from half a step before the first sighting to half a step after the last
    assert windows.centres_s[0] == pytest.approx(0.9) and windows.centres_s[-1] == pytest.approx(3.1)
    assert np.allclose(np.diff(windows.centres_s), STEP_S)
    assert windows.probabilities.shape == (len(windows.centres_s), len(ACTIONS))
    assert backend.shapes[0][1:] == (CLIP_FRAMES, 32, 32, 3)


def _routed(backend: str) -> MomentGrounder:
    """A grounder whose models are replaced by markers: which backend answered shows in the span."""
    grounder = MomentGrounder(backend=backend)  # type: ignore[arg-type]
    grounder.vocabulary = lambda: VOCAB  # type: ignore[method-assign]
    grounder.fused_spans = lambda video, parsed, top_k: [ScoredSpan(1.0, 2.0, 0.9)]  # type: ignore[method-assign]
    grounder.clip_spans = lambda video, query, top_k: [ScoredSpan(3.0, 4.0, 0.1)]  # type: ignore[method-assign]
    return grounder


def test_routing_between_fused_and_clip(tiny_video: Path):
    session = VideoSession(tiny_video)
    auto = _routed("auto")
    assert auto.moments(session, "the red car stops", 3)[0].start_s == 1.0  # parses: fused
    assert auto.moments(session, "a white square moves", 3)[0].start_s == 3.0  # does not: CLIP
    assert dict(auto.backend_counts) == {"fused": 1, "clip": 1}
    assert _routed("clip").moments(session, "the red car stops", 3)[0].start_s == 3.0
    fused = _routed("fused")
    with pytest.raises(ToolError, match="cannot read"):
        fused.moments(session, "a white square moves", 3)
    empty = _routed("auto")
    empty.fused_spans = lambda video, parsed, top_k: []  # type: ignore[method-assign]
    assert empty.moments(session, "the red car stops", 3)[0].start_s == 3.0  # no such car tracked: CLIP


def test_backend_is_checked_and_named_in_the_fingerprint():
    with pytest.raises(ValueError, match="backend"):
        MomentGrounder(backend="yolo")  # type: ignore[arg-type]
    clip, auto = MomentGrounder(backend="clip"), MomentGrounder()
    assert clip.fingerprint() == clip.clip_fingerprint()  # CLIP-only results and embeddings keep their keys
    assert auto.fingerprint() != clip.fingerprint() and auto.clip_fingerprint() == clip.clip_fingerprint()
