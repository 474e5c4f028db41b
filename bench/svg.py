"""A dependency-free SVG chart of a benchmark result: calls per host (bars) and wall time against N (lines)."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

COLOURS = {"ours": "#1f77b4", "baseline": "#d62728"}
DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4"]


def _text(x: float, y: float, s: str, size: int = 11, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-family="sans-serif" {extra}>{html.escape(s)}</text>'
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def bars(title: str, groups: Sequence[str], series: Mapping[str, Sequence[float | None]], x0: float, y0: float,
         width: float, height: float) -> list[str]:  # fmt: skip
    """Grouped bars: one group per label, one bar per series (``ours``/``baseline``), value printed on top."""
    out = [_text(x0 + width / 2, y0 - 8, title, 13, "middle", 'font-weight="bold"')]
    top = _nice_max(max([v for vals in series.values() for v in vals if v is not None] or [1]))
    out.append(f'<line x1="{x0}" y1="{y0 + height}" x2="{x0 + width}" y2="{y0 + height}" stroke="#333"/>')
    for i in range(5):
        y = y0 + height - height * i / 4
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + width}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(_text(x0 - 4, y + 4, f"{top * i / 4:g}", 10, "end"))
    group_w = width / max(len(groups), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    for g, label in enumerate(groups):
        gx = x0 + g * group_w + group_w * 0.1
        for s, (name, values) in enumerate(series.items()):
            value = values[g]
            x = gx + s * bar_w
            if value is None:
                out.append(_text(x + bar_w / 2, y0 + height - 4, "n/a", 9, "middle", 'fill="#888"'))
                continue
            h = height * value / top
            colour = COLOURS.get(name, "#555")
            out.append(
                f'<rect x="{x:.1f}" y="{y0 + height - h:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
            out.append(_text(x + bar_w / 2, y0 + height - h - 3, f"{value:g}", 9, "middle"))
        out.append(_text(gx + group_w * 0.4, y0 + height + 14, label, 10, "middle"))
    return out


def lines(title: str, xs: Sequence[int], series: Mapping[str, Mapping[int, float | None]], x0: float, y0: float,
          width: float, height: float) -> list[str]:  # fmt: skip
    """Wall time against fleet size, one line per (implementation, run); x on a log scale when N spans > 10x."""
    out = [_text(x0 + width / 2, y0 - 8, title, 13, "middle", 'font-weight="bold"')]
    values = [v for s in series.values() for v in s.values() if v is not None]
    top = _nice_max(max(values or [1]))
    xs = sorted(xs)
    log = len(xs) > 1 and xs[-1] / max(xs[0], 1) > 10

    def px(n: int) -> float:
        if len(xs) == 1:
            return x0 + width / 2
        if log:
            return x0 + width * (math.log(n) - math.log(xs[0])) / (math.log(xs[-1]) - math.log(xs[0]))
        return x0 + width * (n - xs[0]) / (xs[-1] - xs[0])

    out.append(f'<line x1="{x0}" y1="{y0 + height}" x2="{x0 + width}" y2="{y0 + height}" stroke="#333"/>')
    for i in range(5):
        y = y0 + height - height * i / 4
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + width}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(_text(x0 - 4, y + 4, f"{top * i / 4:g}", 10, "end"))
    for n in xs:
        out.append(_text(px(n), y0 + height + 14, f"N={n}", 10, "middle"))
    legend_y = y0 + 4
    runs = list(dict.fromkeys(name.split(" ", 1)[-1] for name in series))  # same dash for the same run
    for k, (name, points) in enumerate(series.items()):
        impl, _, run = name.partition(" ")
        colour = COLOURS.get(impl, "#555")
        dash = DASHES[runs.index(run or impl) % len(DASHES)]
        pts = [(px(n), y0 + height - height * v / top) for n, v in sorted(points.items()) if v is not None]
        if not pts:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        out.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in pts)
        out.append(
            f'<line x1="{x0 + width + 12}" y1="{legend_y + 14 * k}" x2="{x0 + width + 36}" y2="{legend_y + 14 * k}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        out.append(_text(x0 + width + 40, legend_y + 14 * k + 4, name, 10))
    return out


def chart(result: Mapping[str, Any]) -> str:
    """The SVG document for a result dict as written by ``bench/run.py``."""
    runs = [r for r in result["runs"] if r["status"] == "ok"]
    ns = sorted({r["hosts"] for r in runs}) or [0]
    largest = ns[-1]
    labels: list[str] = []
    for r in result["runs"]:
        label = f"{r['scenario']}/{r['run']}"
        if label not in labels:
            labels.append(label)
    at_largest = {(r["impl"], f"{r['scenario']}/{r['run']}"): r for r in runs if r["hosts"] == largest}
    bar_series = {
        impl: [(at_largest[(impl, lb)]["calls"]["mean"] if (impl, lb) in at_largest else None) for lb in labels]
        for impl in ("ours", "baseline")
    }
    wall: dict[str, dict[int, float | None]] = {}
    for r in runs:
        wall.setdefault(f"{r['impl']} {r['scenario']}/{r['run']}", {})[r["hosts"]] = r["wall_s"]
    params = result.get("params", {})
    w, h = 1100, 640
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        _text(20, 24, f"asr.process_server benchmark {result.get('date', '')}", 15, extra='font-weight="bold"'),
        _text(
            20,
            42,
            f"latency {params.get('latency_ms', 0)} ms per remote call, forks {params.get('forks')}, "
            f"{result.get('machine', {}).get('nproc', '?')} cores; blue = this collection, red = naive baseline",
            11,
        ),
    ]
    body += bars(f"remote calls per process server (mean, N={largest})", labels, bar_series, 60, 80, 980, 200)
    body += lines("wall time (s) against fleet size", ns, wall, 60, 360, 720, 230)
    body.append("</svg>")
    return "\n".join(body) + "\n"
