"""Procedural scenes: which objects appear, where, and what they do in every frame.

``simulate(config, seed)`` is deterministic in ``seed``. Scripted classes (person, dog, car, bicycle,
bird) follow a sampled plan of actions; balls and boxes follow simple physics (kicks, friction, bounces,
collisions). The result, a ``Scene``, holds one ``Pose`` per object per frame plus the screen geometry
that both the ground truth (``truth.py``) and the pixels (``render.py``) are derived from.

Geometry: the ground lies below the horizon; an object's ground-contact row ``y`` sets its depth, hence its
scale (farther = higher on screen = smaller). Objects move along horizontal lanes; people and dogs may
drift in depth while walking, so their size changes over time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from vidagent.tasks.world.config import CLASS_ACTIONS, COLORS, WorldConfig
from vidagent.tasks.world.render import Occluder, Pose, Primitive, primitives_box, sprite

# Speeds in local units (person heights) per second, at the object's own depth scale.
SPEED = {"walk": 0.75, "run": 2.0, "drive": 1.6, "ride": 1.2, "fly": 1.3}
# Gait / wing cycles per second.
CYCLE_HZ = {"walk": 1.0, "run": 1.7, "wave": 2.0, "fly": 3.0}
# Half of each class's length in local units (keeps objects inside the frame when they turn).
HALF_LENGTH = {"person": 0.15, "dog": 0.35, "car": 1.0, "bicycle": 0.5, "ball": 0.15, "bird": 0.3, "box": 0.25}
CLASS_WEIGHTS = {"person": 3.0, "car": 1.4, "dog": 1.2, "ball": 1.2, "bicycle": 1.0, "bird": 0.8, "box": 0.8}
SIZES = {"small": 0.8, "medium": 1.0, "large": 1.2}
MIN_IN_FRAME = 0.3  # an object is on screen when this share of its box lies inside the frame
MAX_OCCLUDED = 0.8  # ... and visible when, in addition, less than this share is covered by nearer things


@dataclass
class ObjectSpec:
    track_id: int
    category: str
    color: str
    size: str  # "small" | "medium" | "large"
    skin: int = 0


@dataclass
class FrameObject:
    """One object in one frame: its pose, primitives and box (unclipped, pixels)."""

    track_id: int
    pose: Pose
    prims: list[Primitive]
    box: tuple[float, float, float, float]
    in_frame: float = 1.0  # share of the box inside the frame
    occluded: float = 0.0  # share of the (clipped) box covered by boxes of nearer objects / scenery

    @property
    def on_screen(self) -> bool:
        return self.in_frame >= MIN_IN_FRAME

    @property
    def visible(self) -> bool:
        return self.on_screen and self.occluded < MAX_OCCLUDED


@dataclass
class Scene:
    video_id: str
    seed: int
    width: int
    height: int
    fps: int
    num_frames: int
    background: str
    gain: float
    tint: tuple[float, float, float]
    noise_std: float
    objects: list[ObjectSpec]
    occluders: list[Occluder]
    frames: list[list[FrameObject]]  # per frame, the objects present (spawned and not gone), any order
    collisions: list[tuple[int, int, int]] = field(default_factory=list)  # (frame, hitter id, hit id)

    def layers(self, frame: int) -> list[list[Primitive]]:
        """Primitive lists of frame ``frame`` in painting order (far to near, scenery included)."""
        items = [(o.pose.y, 0, o.prims) for o in self.frames[frame]]
        items += [(occ.y, 1, occ.primitives()) for occ in self.occluders]
        items.sort(key=lambda item: (item[0], item[1]))
        return [prims for _, _, prims in items]


class _Track:
    """Per-frame state arrays of one object."""

    def __init__(self, n: int):
        self.present = np.zeros(n, bool)
        self.x = np.zeros(n)
        self.y = np.zeros(n)
        self.facing = np.ones(n, int)
        self.action = ["still"] * n
        self.phase = np.zeros(n)
        self.lift = np.zeros(n)
        self.tilt = np.zeros(n)


class _Geometry:
    def __init__(self, config: WorldConfig):
        self.width, self.height, self.horizon = config.width, config.height, config.horizon
        ground = self.height - self.horizon
        self.y_far = self.horizon + 0.16 * ground
        self.y_near = self.height - 0.03 * ground
        self.unit = 0.3 * self.height  # pixels per local unit at the nearest depth

    def scale(self, y: float) -> float:
        depth = (y - self.horizon) / (self.height - self.horizon)
        return self.unit * (0.25 + 0.75 * depth)

    def lanes(self, rng: np.random.Generator, count: int) -> list[float]:
        """``count`` distinct ground rows, spread over the ground, in random order."""
        slots = np.linspace(self.y_far, self.y_near, max(count, 2) + 2)[1:-1]
        jitter = (slots[1] - slots[0]) * 0.25 if len(slots) > 1 else 0.0
        rows = [float(s + rng.uniform(-jitter, jitter)) for s in slots[:count]]
        rng.shuffle(rows)
        return rows


# ---------------------------------------------------------------------------------------------------------
# Plans for scripted classes: a list of steps (action, frames, options)


@dataclass
class _Step:
    action: str
    frames: int
    enter: bool = False  # move until fully inside the frame, then go on
    leave: bool = False  # move toward the nearest edge until gone
    dy: float = 0.0  # depth drift, pixels per second


def _pick(rng: np.random.Generator, options: dict[str, float], allowed: set[str]) -> str | None:
    names = [name for name in options if name in allowed]
    if not names:
        return None
    weights = np.array([options[name] for name in names])
    return str(names[int(rng.choice(len(names), p=weights / weights.sum()))])


def _seconds(rng: np.random.Generator, fps: int, low: float, high: float) -> int:
    return max(1, round(rng.uniform(low, high) * fps))


def _plan_walker(rng: np.random.Generator, category: str, allowed: set[str], fps: int, n: int,
                 enters: bool) -> list[_Step]:
    """Plan for a person or a dog."""
    moves = {"walk": 3.0, "run": 1.5} if category == "person" else {"walk": 2.0, "run": 2.0}
    idle = {"stand": 1.2, "wave": 1.2, "jump": 1.2} if category == "person" else {"stand": 1.0, "jump": 1.5}
    steps: list[_Step] = []
    if enters:
        steps.append(_Step(_pick(rng, moves, allowed) or "walk", _seconds(rng, fps, 0.8, 2.0), enter=True))
    total = sum(s.frames for s in steps)
    previous = steps[-1].action if steps else None
    falls = category == "person" and {"fall", "lie"} <= allowed and rng.random() < 0.3
    leaves = "leave" in allowed and rng.random() < 0.3
    budget = n * (rng.uniform(0.45, 0.8) if (falls or leaves) else 1.0)
    while total < budget:
        table = moves if previous not in moves or rng.random() < 0.3 else idle
        action = _pick(rng, {k: v for k, v in table.items() if k != previous}, allowed)
        if action is None:
            action = _pick(rng, {k: v for k, v in {**moves, **idle}.items() if k != previous}, allowed) or "stand"
        if action == "jump":
            frames = round(0.7 * fps) * int(rng.integers(1, 3))
        elif action in moves:
            frames = _seconds(rng, fps, 1.5, 3.5)
        else:
            frames = _seconds(rng, fps, 1.2, 2.8)
        dy = float(rng.uniform(-10, 10)) if action == "walk" and rng.random() < 0.5 else 0.0
        steps.append(_Step(action, frames, dy=dy))
        total += frames
        previous = action
    if falls:
        steps.append(_Step("fall", max(2, round(0.6 * fps))))
        steps.append(_Step("lie", n))
    elif leaves:
        steps.append(_Step(_pick(rng, moves, allowed) or "walk", n, leave=True))
    return steps


def _plan_vehicle(rng: np.random.Generator, move: str, allowed: set[str], fps: int, n: int,
                  enters: bool) -> list[_Step]:
    """Plan for a car (``drive``) or a bicycle (``ride``): drive, brake to a stop, wait, drive on."""
    can_stop = "stop" in allowed
    can_leave = "leave" in allowed
    steps: list[_Step] = []
    if enters:
        steps.append(_Step(move, _seconds(rng, fps, 0.5, 1.5), enter=True))
    elif rng.random() < 0.5:
        steps.append(_Step("still", _seconds(rng, fps, 1.0, 3.0)))
    if move not in allowed:
        return steps + [_Step("still", n)]
    steps.append(_Step(move, _seconds(rng, fps, 1.0, 2.5)))
    if can_stop:
        steps.append(_Step("stop", _seconds(rng, fps, 0.8, 1.3)))
        steps.append(_Step("still", _seconds(rng, fps, 1.5, 4.0) if can_leave and rng.random() < 0.6 else n))
    steps.append(_Step(move, n, leave=can_leave))
    return steps


def _plan_bird(rng: np.random.Generator, allowed: set[str], fps: int, n: int, enters: bool) -> list[_Step]:
    if "fly" not in allowed:
        return [_Step("stand", n)]
    steps = [_Step("fly", _seconds(rng, fps, 2.0, 4.0), enter=True)] if enters else []
    steps.append(_Step("stand", _seconds(rng, fps, 2.0, 5.0)))
    steps.append(_Step("fly", n, leave="leave" in allowed))
    return steps


class _Walker:
    """Runs a plan frame by frame for a scripted object (person, dog, car, bicycle, bird)."""

    def __init__(self, spec: ObjectSpec, steps: list[_Step], geometry: _Geometry, fps: int, x: float, y: float,
                 facing: int, spawn: int, track: _Track):
        self.spec, self.steps, self.geo, self.fps = spec, steps, geometry, fps
        self.x, self.y, self.facing, self.spawn, self.track = x, y, facing, spawn, track
        self.half = HALF_LENGTH[spec.category] * SIZES[spec.size]
        self.speed = 0.0  # current speed, local units / s
        self.phase, self.lift, self.tilt = 0.0, 0.0, 0.0
        self.altitude = 0.9 + (spec.track_id % 5) * 0.12 if spec.category == "bird" else 0.0
        if spec.category == "bird" and steps[0].action == "fly":
            self.lift = self.altitude  # enters already flying
        self.step_index, self.step_frame = 0, 0
        self.gone = False

    def _inside(self) -> bool:
        margin = self.half * self.geo.scale(self.y)
        return margin <= self.x <= self.geo.width - margin

    def _off_screen(self) -> bool:
        margin = self.half * self.geo.scale(self.y) + 2
        return self.x < -margin or self.x > self.geo.width + margin

    def _current(self) -> _Step:
        while self.step_index < len(self.steps) - 1:
            step = self.steps[self.step_index]
            done = self._inside() if step.enter else self.step_frame >= step.frames
            if step.enter and self.step_frame < step.frames:
                done = False
            if not done:
                break
            self.step_index += 1
            self.step_frame = 0
            if self.steps[self.step_index].leave:
                self.facing = 1 if self.x > self.geo.width / 2 else -1
        return self.steps[self.step_index]

    def advance(self, i: int) -> None:
        if i < self.spawn or self.gone:
            return
        dt = 1.0 / self.fps
        step = self._current()
        action = step.action
        category = self.spec.category
        cruise = SPEED.get(action, 0.0)
        if action == "stop":  # brake linearly to a halt over the step
            remaining = max(step.frames - self.step_frame, 1)
            self.speed = max(0.0, self.speed - self.speed / remaining)
        elif action in ("drive", "ride"):
            self.speed = min(cruise, self.speed + cruise * dt / 0.6)  # accelerate over 0.6 s
        elif category == "bird":
            self.speed = SPEED["fly"] if (action == "fly" or self.lift > 0) else 0.0
        else:
            self.speed = cruise
        scale = self.geo.scale(self.y)
        if self.speed > 0:
            self.x += self.facing * self.speed * scale * dt
            if step.dy:
                self.y = float(np.clip(self.y + step.dy * dt, self.geo.y_far, self.geo.y_near))
            if step.leave and self._off_screen():
                self.gone = True
                return
            if not step.enter and not step.leave and not self._inside():
                margin = self.half * scale
                self.x = float(np.clip(self.x, margin, self.geo.width - margin))
                self.facing = -self.facing  # turn around at the edge of the frame
        label = action
        if category in ("person", "dog"):
            self.phase += 2 * math.pi * CYCLE_HZ.get(action, 0.0) * dt
            hop = round(0.7 * self.fps)
            self.lift = 0.3 * math.sin(math.pi * ((self.step_frame % hop) + 0.5) / hop) if action == "jump" else 0.0
            if category == "dog":
                self.lift *= 0.8
            if action == "run":
                self.tilt = 0.15 if category == "person" else 0.0  # runners lean forward
            elif action in ("walk", "stand", "wave", "jump"):
                self.tilt = 0.0
            if action == "fall":
                self.tilt = (math.pi / 2) * min(1.0, (self.step_frame + 1) / step.frames) ** 1.5
            elif action == "lie":
                self.tilt = math.pi / 2
        elif category in ("car", "bicycle"):
            radius = 0.14 if category == "car" else 0.16
            self.phase += self.speed * dt / radius
            if action == "stop" and self.speed <= 0:
                label = "still"
        else:  # bird: fly at altitude, glide down to stand, take off again
            target = self.altitude if action == "fly" else 0.0
            rate = 0.9 * dt
            self.lift = min(target, self.lift + rate) if target > self.lift else max(target, self.lift - rate)
            label = "fly" if self.lift > 1e-6 else "stand"
            self.phase += 2 * math.pi * CYCLE_HZ["fly"] * dt
        self.step_frame += 1
        t = self.track
        t.present[i], t.x[i], t.y[i], t.facing[i] = True, self.x, self.y, self.facing
        t.action[i], t.phase[i], t.lift[i], t.tilt[i] = label, self.phase, self.lift, self.tilt


# ---------------------------------------------------------------------------------------------------------
# Physics for balls and boxes


@dataclass
class _Body:
    spec: ObjectSpec
    x: float
    y: float
    vx: float = 0.0  # pixels / s
    bounce: float = 0.0  # current bounce amplitude, local units
    bounce_decay: float = 0.0  # amplitude lost per second
    phase: float = 0.0
    gone: bool = False
    kicks: list[tuple[int, float, float]] = field(default_factory=list)  # (frame, vx, bounce amplitude)
    spawn: int = 0

    @property
    def friction(self) -> float:  # deceleration, pixels / s^2
        return 28.0 if self.spec.category == "ball" else 160.0


def _extent(spec: ObjectSpec, x: float, y: float, geo: _Geometry) -> tuple[float, float]:
    pose = Pose(spec.category, spec.color, x, y, geo.scale(y), size=SIZES[spec.size])
    x1, _, x2, _ = primitives_box(sprite(pose))
    return x1, x2


def _simulate_bodies(bodies: list[_Body], tracks: dict[int, _Track], geo: _Geometry, fps: int, n: int,
                     allow_collide: bool) -> list[tuple[int, int, int]]:
    dt = 1.0 / fps
    collisions = []
    for i in range(n):
        for b in bodies:
            if b.gone or i < b.spawn:
                continue
            for frame, vx, amp in b.kicks:
                if frame == i:
                    b.vx, b.bounce = vx, amp
                    b.bounce_decay = amp / 2.0 if amp else 0.0
            if b.vx:
                step = abs(b.vx) * dt
                slowed = max(0.0, abs(b.vx) - b.friction * dt)
                b.x += math.copysign(step, b.vx)
                b.vx = math.copysign(slowed, b.vx) if slowed > 0 else 0.0
                b.phase += math.copysign(step, b.vx or 1.0) / max(0.14 * geo.scale(b.y), 1.0)
            if b.bounce > 0:
                b.bounce = max(0.0, b.bounce - b.bounce_decay * dt)
            margin = HALF_LENGTH[b.spec.category] * geo.scale(b.y) + 2
            if b.x < -margin or b.x > geo.width + margin:
                b.gone = True
        if allow_collide:
            live = [b for b in bodies if not b.gone and i >= b.spawn]
            for a_index, a in enumerate(live):
                for b in live[a_index + 1:]:
                    if abs(a.y - b.y) > 3 or (a.vx == 0 and b.vx == 0):
                        continue
                    (a1, a2), (b1, b2) = _extent(a.spec, a.x, a.y, geo), _extent(b.spec, b.x, b.y, geo)
                    closing = (b.x - a.x) * (a.vx - b.vx) > 0
                    if a2 >= b1 and b2 >= a1 and closing:
                        hitter, hit = (a, b) if abs(a.vx) >= abs(b.vx) else (b, a)
                        if hit.spec.category == "box":
                            hit.vx, hitter.vx = 0.7 * hitter.vx, -0.35 * hitter.vx
                        else:  # equal balls swap velocities
                            hit.vx, hitter.vx = hitter.vx, hit.vx
                        collisions.append((i, hitter.spec.track_id, hit.spec.track_id))
        for b in bodies:
            if b.gone or i < b.spawn:
                continue
            t = tracks[b.spec.track_id]
            lift = b.bounce * abs(math.sin(math.pi * 1.6 * i * dt)) if b.bounce > 0 else 0.0
            if b.spec.category == "box":
                label = "slide" if b.vx else "still"
            else:
                label = "bounce" if b.bounce > 0.01 else ("roll" if b.vx else "still")
            t.present[i], t.x[i], t.y[i], t.facing[i] = True, b.x, b.y, 1
            t.action[i], t.phase[i], t.lift[i] = label, b.phase, lift
    return collisions


# ---------------------------------------------------------------------------------------------------------


def _choose_objects(rng: np.random.Generator, config: WorldConfig) -> list[tuple[str, str]]:
    """(class, color) pairs; a class never repeats a color, so "the red car" names one object."""
    count = int(rng.integers(config.min_objects, config.max_objects + 1))
    names = list(config.include)
    classes = list(config.classes)
    weights = np.array([CLASS_WEIGHTS[c] for c in classes])
    while len(names) < count:
        names.append(classes[int(rng.choice(len(classes), p=weights / weights.sum()))])
    picked: list[tuple[str, str]] = []
    for name in names:
        used = {color for cls, color in picked if cls == name}
        free = [c for c in config.colors if c not in used]
        if free:
            picked.append((name, str(free[int(rng.integers(len(free)))])))
    return picked


def simulate(config: WorldConfig, seed: int, video_id: str = "") -> Scene:
    """Sample and simulate one scene. Same ``config`` and ``seed`` give the same scene."""
    rng = np.random.default_rng(seed)
    fps = config.fps
    duration = float(rng.uniform(config.min_duration_s, config.max_duration_s))
    n = max(round(duration * fps), 2)
    geo = _Geometry(config)
    allowed = set(config.actions)
    pairs = _choose_objects(rng, config)
    specs = [ObjectSpec(i + 1, cls, color, str(rng.choice(list(SIZES))) if cls in ("dog", "ball", "box")
                        else "medium", skin=int(rng.integers(3)))
             for i, (cls, color) in enumerate(pairs)]
    lanes = geo.lanes(rng, len(specs))
    tracks = {s.track_id: _Track(n) for s in specs}

    # A scripted collision: a ball kicked along the lane of a box or another ball.
    bodies: dict[int, _Body] = {}
    collide_ok = "collide" in allowed and "roll" in allowed
    balls = [s for s in specs if s.category == "ball"]
    targets = [s for s in specs if s.category in ("box", "ball")]
    if collide_ok and balls and rng.random() < config.collision_prob:
        ball = balls[0]
        target = next((s for s in targets if s.track_id != ball.track_id), None)
        if target is not None:
            y = lanes[specs.index(target)]
            lanes[specs.index(ball)] = y
            tx = float(rng.uniform(0.35, 0.65) * geo.width)
            side = 1 if rng.random() < 0.5 else -1
            bx = tx + side * float(rng.uniform(0.22, 0.35)) * geo.width
            gap = abs(bx - tx)
            speed = math.sqrt(2 * 28.0 * gap) * 1.35
            kick = int(rng.integers(int(0.5 * fps), max(int(0.5 * fps) + 1, int(0.35 * n))))
            bodies[ball.track_id] = _Body(ball, bx, y, kicks=[(kick, -side * speed, 0.0)])
            bodies[target.track_id] = _Body(target, tx, y)

    walkers: list[_Walker] = []
    for spec, y in zip(specs, lanes):
        if spec.track_id in bodies:
            continue
        scale = geo.scale(y)
        half = HALF_LENGTH[spec.category] * SIZES[spec.size] * scale
        enters = "enter" in allowed and rng.random() < 0.4 and spec.category != "box"
        spawn = int(rng.integers(0, max(1, int(0.5 * n)))) if enters else 0
        facing = 1 if rng.random() < 0.5 else -1
        x = (-half - 1 if facing > 0 else geo.width + half + 1) if enters \
            else float(rng.uniform(half + 2, geo.width - half - 2))
        if spec.category in ("ball", "box"):
            body = _Body(spec, x, y, spawn=spawn)
            if spec.category == "ball" and "roll" in allowed:
                speed = float(rng.uniform(50, 85)) * (1 if (x < geo.width / 2) else -1)
                amp = float(rng.uniform(0.15, 0.3)) if "bounce" in allowed and rng.random() < 0.5 else 0.0
                kick = spawn if enters else int(rng.integers(0, max(1, n // 2)))
                body.kicks.append((kick, speed, amp))
            bodies[spec.track_id] = body
            continue
        cls_allowed = allowed | {CLASS_ACTIONS[spec.category][0]}
        if spec.category in ("person", "dog"):
            steps = _plan_walker(rng, spec.category, cls_allowed, fps, n, enters)
        elif spec.category in ("car", "bicycle"):
            steps = _plan_vehicle(rng, "drive" if spec.category == "car" else "ride", cls_allowed, fps, n, enters)
        else:
            steps = _plan_bird(rng, cls_allowed, fps, n, enters)
        walkers.append(_Walker(spec, steps, geo, fps, x, y, facing, spawn, tracks[spec.track_id]))
    for i in range(n):
        for walker in walkers:
            walker.advance(i)
    collisions = _simulate_bodies(list(bodies.values()), tracks, geo, fps, n, collide_ok)

    occluders = []
    if config.occluders:
        for _ in range(int(rng.integers(0, 3))):
            y = float(rng.uniform(geo.y_far + 0.5 * (geo.y_near - geo.y_far), geo.y_near))
            occluders.append(Occluder(str(rng.choice(["post", "tree", "bush"])), float(rng.uniform(0.1, 0.9))
                                      * geo.width, y, geo.scale(y)))
    frames = _frame_objects(specs, tracks, geo, occluders, n)
    return Scene(video_id=video_id, seed=seed, width=config.width, height=config.height, fps=fps, num_frames=n,
                 background=str(rng.choice(config.backgrounds)),
                 gain=float(rng.uniform(*config.light_gain)),
                 tint=tuple(float(v) for v in rng.uniform(0.93, 1.07, 3)),  # type: ignore[arg-type]
                 noise_std=float(rng.uniform(*config.noise_std)), objects=specs, occluders=occluders,
                 frames=frames, collisions=collisions)


def _frame_objects(specs: list[ObjectSpec], tracks: dict[int, _Track], geo: _Geometry,
                   occluders: list[Occluder], n: int) -> list[list[FrameObject]]:
    scenery = [(occ.y, primitives_box(occ.primitives())) for occ in occluders]
    frames: list[list[FrameObject]] = []
    for i in range(n):
        objs = []
        for spec in specs:
            t = tracks[spec.track_id]
            if not t.present[i]:
                continue
            pose = Pose(spec.category, spec.color, float(t.x[i]), float(t.y[i]), geo.scale(float(t.y[i])),
                        facing=int(t.facing[i]), action=t.action[i], phase=float(t.phase[i]),
                        lift=float(t.lift[i]), tilt=float(t.tilt[i]), size=SIZES[spec.size], skin=spec.skin)
            prims = sprite(pose)
            objs.append(FrameObject(spec.track_id, pose, prims, primitives_box(prims)))
        _measure_visibility(objs, scenery, geo.width, geo.height)
        frames.append(objs)
    return frames


def _measure_visibility(objs: list[FrameObject], scenery: list[tuple[float, tuple]], width: int,
                        height: int) -> None:
    """Set ``in_frame`` and ``occluded`` of each object (box-level: boxes of nearer things cover it)."""
    blockers = [(o.pose.y, o.box, o.track_id) for o in objs] + [(y, box, -1) for y, box in scenery]
    for o in objs:
        x1, y1, x2, y2 = o.box
        area = max((x2 - x1) * (y2 - y1), 1e-6)
        cx1, cy1, cx2, cy2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
        if cx2 <= cx1 or cy2 <= cy1:
            o.in_frame, o.occluded = 0.0, 0.0
            continue
        o.in_frame = (cx2 - cx1) * (cy2 - cy1) / area
        ix1, iy1 = math.floor(cx1), math.floor(cy1)
        mask = np.zeros((math.ceil(cy2) - iy1, math.ceil(cx2) - ix1), bool)
        for y, (bx1, by1, bx2, by2), tid in blockers:
            in_front = y > o.pose.y or (tid == -1 and y == o.pose.y)
            if tid == o.track_id or not in_front:
                continue
            a, b = max(int(bx1) - ix1, 0), max(int(by1) - iy1, 0)
            c, d = min(math.ceil(bx2) - ix1, mask.shape[1]), min(math.ceil(by2) - iy1, mask.shape[0])
            if c > a and d > b:
                mask[b:d, a:c] = True
        o.occluded = float(mask.mean()) if mask.size else 0.0


def color_rgb(name: str) -> tuple[int, int, int]:
    return COLORS[name]
