"""Label placement from estimated text extents: point labels that do not collide, reference labels off the bars.

Plotly places a text where it is told; it does not move labels apart. Here a label's box is estimated from its
characters and font size (sans-serif glyphs average ~0.6 em wide, lines ~1.25 em tall) in the pixels of a typical
plot area, and each label takes the first of its candidate positions that overlaps nothing placed before it. Tests
compute the same boxes from the figure to check that no two labels overlap.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

CHAR_EM, LINE_EM = 0.6, 1.25
PLOT_PX = (860, 380)  # the plot area of a page chart (figure minus margins), in pixels
# Plotly's scatter text positions, tried in this order: above, below, right, left, then the corners.
POSITIONS = ("top center", "bottom center", "middle right", "middle left",
             "top right", "top left", "bottom right", "bottom left")


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in plot pixels (y upwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlap(self, other: "Box") -> float:
        """The area two boxes share (0 when they only touch)."""
        dx = min(self.x1, other.x1) - max(self.x0, other.x0)
        dy = min(self.y1, other.y1) - max(self.y0, other.y0)
        return dx * dy if dx > 0 and dy > 0 else 0.0


def text_size(text: str, font_px: float) -> tuple[float, float]:
    """Estimated (width, height) in pixels of a one-line text."""
    return len(text) * font_px * CHAR_EM, font_px * LINE_EM


def axis_range(values: Sequence[float], pad: float = 0.06) -> tuple[float, float]:
    """The range plotly's autorange gives a scatter axis (the data plus a margin for the markers)."""
    low, high = min(values), max(values)
    span = (high - low) or abs(high) or 1.0
    return low - pad * span, high + pad * span


def to_px(value: float, axis: tuple[float, float], length: float) -> float:
    """A data value as a pixel offset along an axis of `length` pixels."""
    low, high = axis
    return (value - low) / ((high - low) or 1.0) * length


def label_box(cx: float, cy: float, width: float, height: float, position: str, gap: float) -> Box:
    """The box of a label at a plotly text position around a point (cx, cy), `gap` pixels from its centre."""
    vertical, horizontal = position.split(" ")
    if horizontal == "center":
        x0 = cx - width / 2
    elif horizontal == "right":
        x0 = cx + (gap if vertical == "middle" else 0)
    else:
        x0 = cx - width - (gap if vertical == "middle" else 0)
    if vertical == "top":
        y0 = cy + gap
    elif vertical == "bottom":
        y0 = cy - gap - height
    else:
        y0 = cy - height / 2
    return Box(x0, y0, x0 + width, y0 + height)


def place_point_labels(xs: Sequence[float], ys: Sequence[float], texts: Sequence[str], fonts: Sequence[float],
                       markers: Sequence[float], *, order: Sequence[int] | None = None, optional: Sequence[bool] = (),
                       plot_px: tuple[int, int] = PLOT_PX) -> list[str | None]:
    """A plotly text position for each point's label, so that no label overlaps another label or another point.

    Points are placed in `order` (the important ones first); a point marked `optional` whose every position
    collides gets None (no label: its hover still names it); the others take the least-overlapping position."""
    width, height = plot_px
    x_axis, y_axis = axis_range(xs), axis_range(ys)
    centres = [(to_px(x, x_axis, width), to_px(y, y_axis, height)) for x, y in zip(xs, ys)]
    dots = [Box(cx - m / 2, cy - m / 2, cx + m / 2, cy + m / 2) for (cx, cy), m in zip(centres, markers)]
    optional = list(optional) or [False] * len(xs)
    placed: list[Box] = []
    out: list[str | None] = [None] * len(xs)
    for i in order if order is not None else range(len(xs)):
        if not texts[i]:
            continue
        w, h = text_size(texts[i], fonts[i])
        obstacles = placed + [d for j, d in enumerate(dots) if j != i]
        scored = []
        for rank, position in enumerate(POSITIONS):
            box = label_box(*centres[i], w, h, position, markers[i] / 2 + 1)
            inside = 0 <= box.x0 and box.x1 <= width and box.y1 <= height + h  # may use the top margin a little
            clash = sum(box.overlap(o) for o in obstacles) + (0 if inside else w * h)
            scored.append((clash, rank, position, box))
            if clash == 0:
                break
        clash, _rank, position, box = min(scored)
        if clash and optional[i]:
            continue
        out[i] = position
        placed.append(box)
    return out


def reference_label_side(values: Sequence[float], target: float, label: str, *, font_px: float,
                         others: Sequence[tuple[float, str, str, bool]] = (), y_max: float | None = None,
                         plot_px: tuple[int, int] = PLOT_PX) -> tuple[str, bool]:
    """Where a reference line's label goes on a bar chart ('left'/'right', above the line or not): over bars that
    stay below it, clear of the other reference labels (value, text, side, above); bars in their drawn order."""
    width, height = plot_px
    top = y_max if y_max is not None else max([*values, target, *(o[0] for o in others)]) * 1.05
    axis = (0.0, top or 1.0)
    slot = width / max(len(values), 1)
    bars = [Box(i * slot, 0, (i + 1) * slot, to_px(v, axis, height)) for i, v in enumerate(values)]
    taken = [_reference_box(v, text, side, above, font_px, axis, plot_px) for v, text, side, above in others]
    tallest_left = sum(values[: len(values) // 2]) >= sum(values[len(values) // 2:])
    sides = ("right", "left") if tallest_left else ("left", "right")
    scored = []
    for rank, (side, above) in enumerate([(s, a) for a in (True, False) for s in sides]):
        box = _reference_box(target, label, side, above, font_px, axis, plot_px)
        clash = sum(box.overlap(b) for b in bars + taken) + (0 if box.y1 <= height + box.y1 - box.y0 else 1e6)
        scored.append((clash, rank, side, above))
        if clash == 0:
            break
    _clash, _rank, side, above = min(scored)
    return side, above


def _reference_box(value: float, text: str, side: str, above: bool, font_px: float, axis: tuple[float, float],
                   plot_px: tuple[int, int]) -> Box:
    """The box of a reference line's label (anchored at the plot's left or right edge, above or below the line)."""
    width, height = plot_px
    w, h = text_size(text, font_px)
    y = to_px(value, axis, height)
    x0 = width - w if side == "right" else 0.0
    return Box(x0, y if above else y - h, x0 + w, y + h if above else y)
