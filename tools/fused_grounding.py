"""The fused backend of ``ground_moment``: detector tracks + the action model, no CLIP.

A query such as "the red car stops" is parsed against what the loaded models can name: the detector's
classes, the colors of its color vote (``vidagent.tools.colors``) and the action model's labels, plus three
events that tracks show by themselves (enter, leave, hit/collide). Words are read through ``vidagent.words``
(word forms, synonyms, phrases), as the verifier reads answers: "the vehicle halts" is "the car stops".
The tracks that match the subject come from the detector's memoised tracking (the same ids as
``detect_objects``); each one is cut into action clips one sample step apart, every clip is classified by
``recognize_action``'s model, and runs of clips whose top action is the queried one become the candidate
spans.

A query that does not parse (a word none of the models knows, two verbs ...) gets ``None`` from
``parse_query`` and ``MomentGrounder`` falls back to CLIP.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidagent.answers import interval_iou
from vidagent.tools.action import (
    CLIP_FRAMES,
    STEP_S,
    ActionRecognizer,
    crop_clip,
    interpolate_boxes,
    trajectory_features,
)
from vidagent.tools.results import ScoredSpan, Track
from vidagent.tools.video import VideoSession
from vidagent.words import canonical, join_phrases

# Events read off the tracks themselves (first sighting, last sighting, two boxes meeting).
EVENTS = ("enter", "leave", "collide")
# Canonical verbs (``vidagent.words``) whose action label depends on the class, first allowed label wins:
# idle ("stands still", "stays still", "is still") is ``stand`` for a person and ``still`` for a car; "rolls
# along" (the world's caption for a bicycle riding, canonically ``ride``) is a ball's ``roll`` too.
IDLE = ("stand", "still")
SENSES: dict[str, tuple[str, ...]] = {"still": IDLE, "ride": ("ride", "roll")}
STOP_WORDS = frozenset("the a an this that is are was were be being been does do did one some any in of "
                       "its their his her and".split())
# Search settings, chosen on the world's val split (flat around these values: +-0.02 R@1).
MIN_SHARE = 0.3  # a window counts for the action when it is the top label or has at least this probability
MAX_GAP = 1  # runs this many windows apart are one run
SMOOTH_WINDOWS = 3  # probabilities are averaged over this many neighbouring windows first
LENGTH_SCALE_S = 2.0  # a run's length factor is 1 - exp(-seconds / this)
OTHER_COLOR_WEIGHT = 0.05  # tracks of the class whose voted color differs: a last resort, ranked below
BEST_EFFORT_WEIGHT = 0.25  # spans from tracks where the action never shows rank below real runs
ANYONE = frozenset({"someone", "somebody", "something", "anyone", "anybody", "anything", "object", "thing"})


@dataclass(frozen=True)
class Vocabulary:
    """What the loaded models can name."""

    classes: tuple[str, ...]  # the detector's class names
    colors: tuple[str, ...]  # the color vote's palette
    actions: tuple[str, ...]  # the action model's labels
    class_actions: Mapping[str, Sequence[str]]  # actions each class can do (empty when the model does not say)

    def words(self) -> frozenset[str]:
        """The words a query is lemmatised toward (``vidagent.words.canonical``): they stay as they are."""
        return frozenset({*self.classes, *self.colors, *self.actions, *EVENTS, *STOP_WORDS, *ANYONE})


@dataclass(frozen=True)
class Subject:
    label: str | None  # a detector class; None: any object
    color: str | None  # None: any color


@dataclass(frozen=True)
class ParsedQuery:
    """A query the fused backend can answer: who, and what they do (action labels or one event)."""

    subject: Subject
    actions: tuple[str, ...] = ()  # labels that count, best first; empty with no event: "when is it seen"
    event: str | None = None  # "enter", "leave" or "collide"
    other: Subject | None = None  # what the subject collides with


Token = tuple[str, Any]  # ("class", label or None for "someone"), ("color", name), ("verb", labels)


def tokenize(query: str, vocab: Vocabulary) -> list[Token] | None:
    """Canonical words of the query (``vidagent.words``: forms, synonyms, phrases) as class / color / verb
    tokens, stop words dropped, or ``None`` at the first word that no model knows."""
    known = vocab.words()
    lemmas = [canonical(w, known) for w in re.findall(r"[a-z]+", query.lower())]
    tokens: list[Token] = []
    for word in join_phrases([w for w in lemmas if w not in STOP_WORDS]):
        if word in vocab.classes or word in ANYONE:
            tokens.append(("class", word if word in vocab.classes else None))
        elif word in vocab.colors:
            tokens.append(("color", word))
        elif word in SENSES or word in vocab.actions or word in EVENTS:
            tokens.append(("verb", SENSES.get(word, (word,))))
        else:
            return None
    return tokens


def bind_subjects(tokens: list[Token]) -> list[Subject] | None:
    """One subject per class token. A color binds to the class right after it ("the red car"), else to
    the nearest class before it that has none ("a person in blue"), else, with no class in the query,
    stands alone ("the red one"). ``None`` when a color has nowhere to go ("the red and blue car")."""
    classes = [(k, value) for k, (kind, value) in enumerate(tokens) if kind == "class"]
    colors: dict[int, str] = {}  # index into classes -> color
    loose: list[str] = []
    for k, (kind, value) in enumerate(tokens):
        if kind != "color":
            continue
        following = next((n for n, (at, _) in enumerate(classes) if at == k + 1), None)
        preceding = max((n for n, (at, _) in enumerate(classes) if at < k), default=None)
        if following is not None and following not in colors:
            colors[following] = value
        elif preceding is not None and preceding not in colors:
            colors[preceding] = value
        elif not classes and not loose:
            loose.append(value)
        else:
            return None
    if loose:
        return [Subject(None, loose[0])]
    return [Subject(label, colors.get(n)) for n, (_, label) in enumerate(classes)]


def parse_query(query: str, vocab: Vocabulary) -> ParsedQuery | None:
    """Parse a moment query into subject + action/event, or ``None`` when it is not understood.

    Strict on purpose: an unknown word ("turns", "towards") may change the meaning, and CLIP at least sees
    the whole sentence. One verb at most; two subjects only for a collision ("the ball hits the box").
    """
    tokens = tokenize(query, vocab)
    subjects = bind_subjects(tokens) if tokens is not None else None
    if tokens is None or subjects is None:
        return None
    verbs = [value for kind, value in tokens if kind == "verb"]
    if len(verbs) > 1:
        return None  # "drives and stops": two moments
    verb: tuple[str, ...] = verbs[0] if verbs else ()
    if verb == ("collide",):
        return ParsedQuery(subjects[0], event="collide", other=subjects[1]) if len(subjects) == 2 else None
    subject = subjects[0] if subjects else Subject(None, None)
    if len(subjects) > 1 or (subject.label is None and not verb):
        return None  # two objects doing something, or "red": no thing and no moment
    if verb in (("enter",), ("leave",)):
        return ParsedQuery(subject, event=verb[0])
    allowed = vocab.class_actions.get(subject.label, ()) if subject.label else ()
    actions = tuple(a for a in verb if a in vocab.actions and (not allowed or a in allowed))
    if verb and not actions:
        return None  # "the car jumps": the action model never says so
    return ParsedQuery(subject, actions)


# -- candidate spans ----------------------------------------------------------------------------------------

def matching_tracks(tracks: list[Track], subject: Subject) -> list[tuple[Track, float]]:
    """Tracks of the subject's class, each with a weight: 1 when the color agrees (or none was asked),
    ``OTHER_COLOR_WEIGHT`` when it does not, since the color vote is wrong on some tracks."""
    of_class = [t for t in tracks if subject.label is None or t.label == subject.label]
    return [(t, 1.0 if subject.color is None or t.color == subject.color else OTHER_COLOR_WEIGHT) for t in of_class]


def action_spans(centres_s: np.ndarray, top_labels: Sequence[str], scores: np.ndarray, wanted: str,
                 step_s: float = STEP_S, bounds: tuple[float, float] | None = None,
                 min_share: float = MIN_SHARE, max_gap: int = MAX_GAP) -> list[ScoredSpan]:
    """Runs of windows whose top label is ``wanted`` (or whose ``wanted`` probability reaches
    ``min_share``) -> spans, best first.

    centres_s [N] (ascending, ``step_s`` apart), top_labels [N], scores [N] (the wanted action's
    probability per window). Runs at most ``max_gap`` windows apart are joined: mid-jump, a clip can look
    like standing. A run covers its windows' centres plus half a step on each side, cut to ``bounds``.
    Its score is the mean probability times a length factor, so a long confident run beats a flicker.
    """
    hits = [k for k in range(len(top_labels)) if top_labels[k] == wanted or scores[k] >= min_share]
    runs: list[list[int]] = []
    for k in hits:
        if runs and k - runs[-1][1] <= max_gap + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    spans = []
    for first, last in runs:
        start_s, end_s = float(centres_s[first]) - step_s / 2, float(centres_s[last]) + step_s / 2
        if bounds is not None:
            start_s, end_s = max(start_s, bounds[0]), min(end_s, bounds[1])
        if end_s > start_s:
            score = float(scores[first : last + 1].mean()) * length_factor(end_s - start_s)
            spans.append(ScoredSpan(round(start_s, 2), round(end_s, 2), round(score, 3)))
    return sorted(spans, key=lambda s: -s.score)


def length_factor(seconds: float, scale_s: float = LENGTH_SCALE_S) -> float:
    """Grows from 0 to 1 with a run's length (1 - exp(-seconds / scale)): a flicker counts little."""
    return float(1.0 - np.exp(-seconds / scale_s))


def best_effort_span(centres_s: np.ndarray, scores: np.ndarray, step_s: float = STEP_S,
                     bounds: tuple[float, float] | None = None) -> ScoredSpan | None:
    """When no window shows the wanted action: the region around the most likely window where the
    probability stays above half its peak, at a score that ranks below real runs."""
    if not len(scores):
        return None
    peak = int(scores.argmax())
    lo = hi = peak
    while lo > 0 and scores[lo - 1] >= scores[peak] / 2:
        lo -= 1
    while hi + 1 < len(scores) and scores[hi + 1] >= scores[peak] / 2:
        hi += 1
    start_s, end_s = float(centres_s[lo]) - step_s / 2, float(centres_s[hi]) + step_s / 2
    if bounds is not None:
        start_s, end_s = max(start_s, bounds[0]), min(end_s, bounds[1])
    score = float(scores[lo : hi + 1].mean()) * BEST_EFFORT_WEIGHT
    return ScoredSpan(round(start_s, 2), round(end_s, 2), round(score, 3))


@dataclass
class TrackWindows:
    """Action probabilities of clips slid along one track, one per sample step."""

    centres_s: np.ndarray  # [N] the time each clip's label is about (its middle)
    probabilities: np.ndarray  # [N, C] masked to the track's class


def classify_windows(video: VideoSession, track: Track, recognizer: ActionRecognizer,
                     batch_size: int = 64) -> TrackWindows:
    """Slide ``CLIP_FRAMES``-frame clips along a track at the detector's sampling step and classify each.

    As in training (``vidagent.tasks.toolfit.train_action.candidate_clips``), a clip's label is the action
    at its middle, which lies between its 4th and 5th frame; clips reach half a clip past the track's ends,
    where the first or last box is held (and frames past the video's ends repeat its first or last frame). Each frame is
    cropped once and shared by the ``CLIP_FRAMES`` clips that contain it.
    """
    recognizer.setup()
    assert recognizer.backend is not None
    duration = video.ref.duration_s
    half = CLIP_FRAMES // 2
    first = int(np.floor(track.first_s / STEP_S + 1e-6))  # grid index of the first sighting
    last = int(np.floor(track.last_s / STEP_S + 1e-6))
    grid = np.arange(first - half, last + half + 1)  # [G] grid steps the clips touch
    n_grid = int(np.floor(duration / STEP_S + 1e-6))  # samples in the video at 1/STEP_S
    lo, hi = max(0, grid[0]), min(n_grid - 1, grid[-1])
    frames = video.sample(lo * STEP_S, min(duration, (hi + 1) * STEP_S), fps=1 / STEP_S)
    frame_times = np.asarray(frames.times_s)
    times = np.clip(grid, 0, n_grid - 1) * STEP_S  # [G] past the video's ends: its first or last frame
    boxes = interpolate_boxes(track.boxes, times.tolist())  # [G, 4]
    picks = [int(np.abs(frame_times - t).argmin()) for t in times]
    crops = crop_clip(frames.images[picks], boxes, recognizer.crop)  # [G, s, s, 3]
    # clip j uses grid steps j .. j+CLIP_FRAMES-1; its middle is after step j+half-1
    starts = np.arange(0, len(grid) - CLIP_FRAMES + 1)
    centres = (grid[starts + half - 1] + 0.5) * STEP_S
    probabilities = []
    for begin in range(0, len(starts), batch_size):
        chunk = starts[begin : begin + batch_size]
        window = chunk[:, None] + np.arange(CLIP_FRAMES)[None, :]  # [B, T]
        trajs = np.stack([trajectory_features(boxes[w]) for w in window])
        probabilities.append(recognizer.backend.predict(crops[window], trajs))
    probs = np.concatenate(probabilities) if probabilities else np.zeros((0, len(recognizer.labels)), np.float32)
    probs = np.stack([recognizer.mask_by_class(p, track.label) for p in probs]) if len(probs) else probs
    return TrackWindows(centres.astype(np.float32), probs.astype(np.float32))


def smooth(values: np.ndarray, width: int = SMOOTH_WINDOWS) -> np.ndarray:
    """Moving average along the first axis (edges held), so a one-clip flicker does not split a run."""
    if width <= 1 or len(values) < 2:
        return values
    pad = np.pad(values, [(width // 2, width - 1 - width // 2)] + [(0, 0)] * (values.ndim - 1), mode="edge")
    kernel_sum = sum(pad[k : k + len(values)] for k in range(width))
    return kernel_sum / width


def event_span(track: Track, event: str, duration_s: float, step_s: float = STEP_S) -> ScoredSpan:
    """The sampling step in which the track appeared (enter) or vanished (leave). An object seen from the
    video's first sample (or until its last) did not enter (or leave) on screen, so it scores low."""
    if event == "enter":
        start, end, genuine = track.first_s - step_s, track.first_s, track.first_s > step_s / 2
    else:
        start, end, genuine = track.last_s, track.last_s + step_s, track.last_s < duration_s - 1.5 * step_s
    start, end = max(0.0, start), min(duration_s, end)
    return ScoredSpan(round(start, 2), round(end, 2), 1.0 if genuine else 0.1)


def collision_span(a: Track, b: Track, duration_s: float, step_s: float = STEP_S) -> ScoredSpan | None:
    """When two tracks' boxes first touch (else come closest), as a one-step span; None if never together."""
    boxes_b = {x.t_s: x for x in b.boxes}
    gaps = []  # (time, gap between the boxes in units of the smaller box)
    for x in a.boxes:
        y = boxes_b.get(x.t_s)
        if y is None:
            continue
        dx = max(0.0, max(x.x1, y.x1) - min(x.x2, y.x2))
        dy = max(0.0, max(x.y1, y.y1) - min(x.y2, y.y2))
        size = max(1.0, min(x.x2 - x.x1, x.y2 - x.y1, y.x2 - y.x1, y.y2 - y.y1))
        gaps.append((x.t_s, float(np.hypot(dx, dy)) / size))
    if not gaps:
        return None
    touching = [t for t, g in gaps if g == 0.0]
    at, gap = (touching[0], 0.0) if touching else min(gaps, key=lambda tg: tg[1])
    start, end = max(0.0, at - step_s / 2), min(duration_s, at + step_s / 2)
    return ScoredSpan(round(start, 2), round(end, 2), round(1.0 / (1.0 + gap), 3))


def candidate_spans(parsed: ParsedQuery, tracks: list[Track], windows_of: Callable[[Track], TrackWindows],
                    vocab: Vocabulary, duration_s: float) -> list[ScoredSpan]:
    """Every candidate span for a parsed query over a video's tracks, unsorted.

    ``windows_of(track)`` gives a track's classified clips (memoised by the caller, so several queries on
    one video classify each track once).
    """
    chosen = matching_tracks(tracks, parsed.subject)
    out: list[ScoredSpan] = []
    if parsed.event == "collide":
        assert parsed.other is not None
        others = matching_tracks(tracks, parsed.other)
        for a, weight_a in chosen:
            for b, weight_b in others:
                span = collision_span(a, b, duration_s) if a.track_id != b.track_id else None
                if span is not None:
                    out.append(_scaled(span, weight_a * weight_b))
        return out
    if parsed.event is not None:
        return [_scaled(event_span(t, parsed.event, duration_s), weight) for t, weight in chosen]
    for track, weight in chosen:
        # the sampling step around the first and last sighting belongs to the track too
        bounds = (max(0.0, track.first_s - STEP_S / 2), min(duration_s, track.last_s + STEP_S / 2))
        if not parsed.actions:  # "the red car": when it is on screen
            span = ScoredSpan(round(bounds[0], 2), round(bounds[1], 2), length_factor(bounds[1] - bounds[0]))
            out.append(_scaled(span, weight))
            continue
        allowed = vocab.class_actions.get(track.label) or vocab.actions
        wanted = next((a for a in parsed.actions if a in allowed), None)
        if wanted is None:
            continue
        windows = windows_of(track)
        if not len(windows.centres_s):
            continue
        probabilities = smooth(windows.probabilities)  # [N, C]
        top = [vocab.actions[i] for i in probabilities.argmax(axis=1)]
        scores = probabilities[:, vocab.actions.index(wanted)]
        spans = action_spans(windows.centres_s, top, scores, wanted, bounds=bounds)
        if not spans:
            fallback = best_effort_span(windows.centres_s, scores, bounds=bounds)
            spans = [fallback] if fallback is not None else []
        out += [_scaled(s, weight) for s in spans]
    return out


def _scaled(span: ScoredSpan, factor: float) -> ScoredSpan:
    return ScoredSpan(span.start_s, span.end_s, round(span.score * factor, 3))


def non_overlapping(spans: list[ScoredSpan], top_k: int, max_iou: float = 0.3) -> list[ScoredSpan]:
    """The best spans, skipping any that overlaps a better one by IoU >= ``max_iou`` (both backends use it)."""
    chosen: list[ScoredSpan] = []
    for span in sorted(spans, key=lambda s: -s.score):
        if all(interval_iou((span.start_s, span.end_s), (other.start_s, other.end_s)) < max_iou
               for other in chosen):
            chosen.append(span)
        if len(chosen) == top_k:
            break
    return chosen

