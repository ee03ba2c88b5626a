"""A self-contained HTML report of one answer: key frames with boxes at the evidence times (embedded JPEGs),
a timeline of the tool calls and their spans, and the full trace. No external files, scripts or fonts."""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from vidagent.agent.api import Result
from vidagent.agent.trace import Step
from vidagent.agent.voting import show
from vidagent.tools.results import Box, Evidence
from vidagent.tools.video import VideoRef, decode_frames

MAX_KEY_FRAMES = 6
FRAME_WIDTH = 360
COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"]


def write_report(result: Result, path: str | os.PathLike[str]) -> Path:
    """Write the report of ``result`` to ``path`` (HTML) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(result), encoding="utf-8")
    return out


def render_report(result: Result) -> str:
    ref = VideoRef.open(result.video)
    evidence = report_evidence(result)
    times = key_frame_times(evidence, ref)
    frames = render_key_frames(ref, times, evidence.boxes)
    answer = html.escape(str(result.answer)) if result.answer is not None else "no answer"
    kind = f" <span class=kind>{html.escape(result.answer.answer_type)}</span>" if result.answer else ""
    status = "answered" if result.answered else "unanswered"
    return PAGE.format(
        title=html.escape(result.question),
        question=html.escape(result.question),
        video=html.escape(Path(result.video).name),
        meta=f"{ref.duration_s:.1f} s, {ref.width}x{ref.height}, {ref.fps:g} fps",
        status=status,
        answer=answer + kind,
        reason=html.escape(result.stop_reason),
        stats=html.escape(result.stats.line()),
        evidence=html.escape(describe_evidence(result)),
        frames="\n".join(frames) or "<p class=muted>No frames to show.</p>",
        timeline=render_timeline(result, ref.duration_s, times),
        trace="\n".join(render_step(s) for s in result.trace),
        vote=render_vote(result),
        style=STYLE,
    )


def render_vote(result: Result) -> str:
    """Self-consistency (``samples=N``): the confidence, every distinct answer with its votes, and each
    sample's answer; the trace below is the winning sample's."""
    consensus = result.consensus
    if consensus is None:
        return ""
    rows = "".join(f"<tr><td>{html.escape(show(o.value))}</td><td>{o.votes}</td>"
                   f"<td>{', '.join(str(m + 1) for m in o.members)}</td></tr>" for o in consensus.options)
    note = f"<p class=meta>{html.escape(consensus.note)}</p>" if consensus.note else ""
    winner = f"sample {consensus.winner + 1}" if consensus.winner is not None else "none"
    return (f"<h2>Vote</h2><p class=meta>confidence {consensus.confidence:.2f} over {consensus.samples} samples; "
            f"the trace below is {winner}'s</p>{note}<table class=vote><tr><th>answer</th><th>votes</th>"
            f"<th>samples</th></tr>{rows}</table>")


def report_evidence(result: Result) -> Evidence:
    """The answer's evidence; for an unanswered run, the evidence of every successful call."""
    if result.answer is not None and (result.answer.evidence.spans or result.answer.evidence.boxes):
        return result.answer.evidence
    merged = Evidence()
    for step in result.tool_steps:
        if step.ok:
            merged.extend(step.typed_evidence())
    return merged


def key_frame_times(evidence: Evidence, ref: VideoRef) -> list[float]:
    """Times of boxes first, then span midpoints; one per frame; at most ``MAX_KEY_FRAMES``."""
    candidates = [b.t_s for b in evidence.boxes] + [(s.start_s + s.end_s) / 2 for s in evidence.spans]
    if not candidates:
        candidates = [ref.duration_s * k / 4 for k in (1, 2, 3)]
    chosen: dict[int, float] = {}
    for t in candidates:
        index = ref.frame_index(t)
        if index not in chosen and len(chosen) < MAX_KEY_FRAMES:
            chosen[index] = index / ref.fps
    return sorted(chosen.values())


def render_key_frames(ref: VideoRef, times: list[float], boxes: list[Box]) -> list[str]:
    if not times:
        return []
    from PIL import Image, ImageDraw

    indices = [ref.frame_index(t) for t in times]
    images = decode_frames(ref, indices)  # [N, H, W, 3]; the report's frames do not count against budgets
    scale = FRAME_WIDTH / ref.width
    figures = []
    for index, t, array in zip(indices, times, images, strict=True):
        image = Image.fromarray(np.asarray(array)).resize((FRAME_WIDTH, max(1, round(ref.height * scale))))
        draw = ImageDraw.Draw(image)
        shown = [b for b in boxes if ref.frame_index(b.t_s) == index]
        for k, box in enumerate(shown):
            color = COLORS[(box.track_id if box.track_id is not None else k) % len(COLORS)]
            xy = [box.x1 * scale, box.y1 * scale, box.x2 * scale, box.y2 * scale]
            draw.rectangle(xy, outline=color, width=2)
            label = box.label + (f" #{box.track_id}" if box.track_id is not None else "")
            if label:
                draw.rectangle([xy[0], max(0, xy[1] - 12), xy[0] + 6 * len(label) + 4, xy[1]], fill=color)
                draw.text((xy[0] + 2, max(0, xy[1] - 12)), label, fill="white")
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        caption = f"{t:.2f} s" + (f" &middot; {len(shown)} boxes" if shown else "")
        figures.append(f'<figure><img alt="frame at {t:.2f} s" src="data:image/jpeg;base64,{data}">'
                       f"<figcaption>{caption}</figcaption></figure>")
    return figures


def render_timeline(result: Result, duration: float, frame_times: list[float]) -> str:
    """An SVG: one row per tool call with its evidence spans, the answer's span, key-frame ticks."""
    rows: list[tuple[str, list[tuple[float, float]], str]] = []
    for step in result.tool_steps:
        spans = [(s.start_s, s.end_s) for s in step.typed_evidence().spans]
        rows.append((f"{step.name}", spans, "ok" if step.ok else "error"))
    if result.answer is not None and result.answer.answer_type == "interval" and result.answer.value is not None:
        start, end = result.answer.value  # type: ignore[misc]
        rows.append(("answer", [(start, end)], "answer"))
    label_w, width, row_h = 150, 1000, 22  # px
    plot_w = width - label_w - 10
    height = 30 + row_h * max(1, len(rows))

    def x(t: float) -> float:
        return label_w + plot_w * min(max(t, 0.0), duration) / max(duration, 1e-9)

    parts = [(f'<svg class=timeline viewBox="0 0 {width} {height}" width="100%" role="img" '
              'aria-label="timeline of tool calls">')]
    for k in range(11):  # axis ticks every tenth of the video
        t = duration * k / 10
        anchor = ' text-anchor="end"' if k == 10 else ' text-anchor="middle"'  # last label inside
        parts.append(f'<line x1="{x(t):.1f}" y1="18" x2="{x(t):.1f}" y2="{height}" class=grid />'
                     f'<text x="{x(t):.1f}" y="12" class=tick{anchor}>{t:.1f}s</text>')
    for t in frame_times:
        parts.append(f'<line x1="{x(t):.1f}" y1="18" x2="{x(t):.1f}" y2="{height}" class=frame />')
    for i, (name, spans, kind) in enumerate(rows):
        y = 24 + i * row_h
        parts.append(f'<text x="4" y="{y + 13}" class="label {kind}">{i + 1 if kind != "answer" else ""} '
                     f"{html.escape(name)}</text>")
        if not spans:
            parts.append(f'<text x="{label_w}" y="{y + 13}" class="none {kind}">'
                         f'{"failed" if kind == "error" else "no span"}</text>')
        for start, end in spans:
            w = max(x(end) - x(start), 3.0)
            parts.append(f'<rect x="{x(start):.1f}" y="{y + 2}" width="{w:.1f}" height="{row_h - 6}" '
                         f'class="span {kind}"><title>{start:.2f}-{end:.2f} s</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def render_step(step: Step) -> str:
    if step.kind == "plan":
        calls = "".join(f"<li><code>{html.escape(c['name'] or '?')}({html.escape(_args(c.get('arguments')))})</code>"
                        + (f' <span class=err>{html.escape(c["error"])}</span>' if "error" in c else "") + "</li>"
                        for c in step.calls)
        answer = f"<p class=ans>answer: <b>{html.escape(step.answer)}</b></p>" if step.answer is not None else ""
        tokens = f"{step.prompt_tokens}+{step.completion_tokens} tokens, {step.seconds:.2f} s"
        return (f'<li class="step plan"><h3>planner <small>{tokens}</small></h3>'
                f"<pre>{html.escape(step.raw) or '(empty)'}</pre>"
                + (f"<ul>{calls}</ul>" if calls else "") + answer + "</li>")
    if step.kind == "tool":
        state = "ok" if step.ok else "error"
        info = "cached" if step.cached else f"{step.seconds:.2f} s, {step.frames_decoded} frames decoded"
        return (f'<li class="step tool {state}"><h3>{html.escape(step.name or "?")} '
                f"<code>{html.escape(_args(step.arguments))}</code> <small>{state}, {info}</small></h3>"
                f"<pre>{html.escape(step.text)}</pre></li>")
    return f'<li class="step {step.kind}"><p>{html.escape(step.text)}</p></li>'


def describe_evidence(result: Result) -> str:
    if result.answer is None:
        return "none (no answer)"
    ev = result.answer.evidence
    spans = ", ".join(str(s) for s in ev.spans[:6]) or "no spans"
    tracks = ", ".join(map(str, ev.track_ids)) or "none"
    names = {s.id: s.name for s in result.tool_steps}
    sources = ", ".join(f"{names.get(i, '?')} ({i})" for i in result.answer.sources) or "no tool call"
    return f"spans {spans}; tracks {tracks}; {len(ev.boxes)} boxes; from {sources}"


def _args(arguments: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in (arguments or {}).items())


STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:1100px;margin:0 auto;padding:24px}
header{background:#fff;border-radius:10px;padding:18px 22px;box-shadow:0 1px 3px #0001}
h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;margin:26px 0 10px}
h3{font-size:14px;margin:0 0 6px}small{color:#667;font-weight:normal}
.answer{font-size:28px;font-weight:700;margin:10px 0}.unanswered .answer{color:#b3261e}
.kind{font-size:13px;font-weight:500;background:#e8eaf6;border-radius:6px;padding:2px 8px;vertical-align:middle}
.muted,.meta{color:#667;font-size:13px}.meta{margin:3px 0}
.frames{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;background:#fff;border-radius:8px;padding:6px;box-shadow:0 1px 3px #0001}
figure img{display:block;width:360px;border-radius:4px}figcaption{font-size:12px;color:#555;padding-top:4px}
.timeline{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0001}
.grid{stroke:#e3e5ea}.frame{stroke:#f5a623;stroke-dasharray:3 3}.tick{font-size:10px;fill:#889}
.label{font-size:12px;fill:#333}.label.error{fill:#b3261e}.none{font-size:11px;fill:#999}.none.error{fill:#b3261e}
.span.ok{fill:#4363d8;opacity:.75}.span.error{fill:#b3261e}.span.answer{fill:#2e7d32}
ol.trace{list-style:none;padding:0}.step{background:#fff;border-radius:8px;padding:10px 14px;margin:8px 0;
box-shadow:0 1px 2px #0001;border-left:4px solid #4363d8}
.step.tool{border-color:#3cb44b}.step.tool.error{border-color:#b3261e}.step.notice{border-color:#f5a623}
.step.final{border-color:#1d2330}.step p{margin:0;font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;background:#f3f4f7;padding:8px;border-radius:6px;margin:4px 0;
font-size:12px}.err{color:#b3261e}
table.vote{border-collapse:collapse;background:#fff;font-size:13px}table.vote td,table.vote th{padding:4px 12px;
border-bottom:1px solid #e3e5ea;text-align:left}.ans{margin:4px 0}code{font-size:12px}
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vidagent: {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{style}</style></head>
<body><main>
<header class="{status}">
<h1>{question}</h1>
<p class=meta>{video} &middot; {meta}</p>
<div class=answer>{answer}</div>
<p class=meta><b>{status}</b>: {reason}</p>
<p class=meta>evidence: {evidence}</p>
<p class=meta>{stats}</p>
</header>
{vote}
<h2>Key frames</h2>
<div class=frames>{frames}</div>
<h2>Timeline</h2>
{timeline}
<h2>Trace</h2>
<ol class=trace>{trace}</ol>
</main></body></html>
"""
