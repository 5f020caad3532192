"""Label placement (dashboard/figures/labels.py): scatter labels that avoid each other, value labels on ranked bars,
the 2030 target label off the tallest bars; checked with text boxes estimated from the figure itself."""
from __future__ import annotations

import itertools

import pytest

from dashboard.figures import labels

# The pairs of countries whose labels collided on Relationships (issue 12), and the EU aggregate's label.
CLOSE_PAIRS = [("DE", "LT"), ("FI", "NL"), ("ES", "SE")]


def label_boxes(fig) -> dict[str, labels.Box]:
    """geo -> the box of its drawn label, estimated from the figure's points, texts, positions and sizes."""
    points = [(geo, x, y, text, position, trace.textfont.size, trace.marker.size)
              for trace in fig.data if trace.mode == "markers+text"
              for geo, x, y, text, position in zip(trace.customdata, trace.x, trace.y, trace.text, trace.textposition)]
    width, height = labels.PLOT_PX
    x_axis, y_axis = labels.axis_range([p[1] for p in points]), labels.axis_range([p[2] for p in points])
    out = {}
    for geo, x, y, text, position, font, marker in points:
        if text:
            w, h = labels.text_size(text, font)
            out[geo] = labels.label_box(labels.to_px(x, x_axis, width), labels.to_px(y, y_axis, height), w, h,
                                        position, marker / 2 + 1)
    return out


def test_close_points_get_labels_on_different_sides_that_do_not_overlap():
    positions = labels.place_point_labels([10.0, 10.2, 50.0], [80.0, 80.3, 20.0], ["DE", "LT", "PL"], [11, 11, 11],
                                          [13, 13, 13])
    assert positions[0] != positions[1]
    width, height = labels.PLOT_PX
    xa, ya = labels.axis_range([10.0, 10.2, 50.0]), labels.axis_range([80.0, 80.3, 20.0])
    boxes = [labels.label_box(labels.to_px(x, xa, width), labels.to_px(y, ya, height), *labels.text_size(t, 11), p, 7.5)
             for x, y, t, p in zip([10.0, 10.2], [80.0, 80.3], ["DE", "LT"], positions[:2])]
    assert boxes[0].overlap(boxes[1]) == 0


def test_an_optional_label_that_cannot_be_placed_is_left_out():
    # a crowd of identical points: the first takes a place, an optional twin with nowhere free gets none
    xs, ys = [5.0] * 9, [5.0] * 9
    positions = labels.place_point_labels(xs, ys, ["AA"] * 9, [11] * 9, [9] * 9, optional=[False] + [True] * 8)
    assert positions[0] is not None and None in positions[1:]


def test_relationships_labels_do_not_collide(dsm_env, app, is_standin):
    if is_standin:
        pytest.skip("the colliding pairs are those of the real data (basic digital skills against 5G, 2023)")
    from dashboard import registry

    fig = registry.render("scatter", registry.PAGES["/relationships"].state({}))
    boxes = label_boxes(fig)
    assert {"DE", "LT", "FI", "ES", "SE"} <= set(boxes)
    for a, b in CLOSE_PAIRS:
        if a in boxes and b in boxes:
            assert boxes[a].overlap(boxes[b]) == 0, (a, b)
    for a, b in itertools.combinations(sorted(boxes), 2):
        assert boxes[a].overlap(boxes[b]) == 0, (a, b)  # no two drawn labels overlap
    reference = [t for t in fig.data if t.customdata and "EU27_2020" in t.customdata]
    assert reference and list(reference[0].text) == ["EU27"]  # not 'EU27_2020'


def test_ranked_bars_carry_value_labels_where_there_is_room(dsm_env, app):
    from dashboard import registry
    from dashboard.data import queries

    fig = registry.render("ranked_bar", registry.PAGES["/compare"].state({"indicator": queries.headline_indicators()[0]}))
    bars = fig.data[0]
    assert bars.texttemplate and "%{y:.1f}" in bars.texttemplate and "%{text}" in bars.texttemplate  # value + flags
    assert fig.layout.uniformtext.mode == "hide" and fig.layout.uniformtext.minsize >= 8  # none below 8 px


def test_target_label_is_not_on_the_tallest_bars(dsm_env, app, is_standin):
    if is_standin:
        pytest.skip("5G coverage's 2030 target is in the real catalogue")
    from dashboard import registry

    fig = registry.render("ranked_bar", registry.PAGES["/compare"].state({"indicator": "coverage_5g"}))
    (target,) = [a for a in fig.layout.annotations if a.yref == "y" and "2030" in a.text]
    values = list(fig.data[0].y)
    assert values[0] >= values[-1]  # best first: the tallest bars on the left
    assert target.xanchor == "right" and target.x == 1  # the label sits over the short bars
    width, height = labels.PLOT_PX
    top = max(values + [target.y]) * 1.05
    w, h = labels.text_size(target.text, 11)
    box = labels.Box(width - w, labels.to_px(target.y, (0, top), height), width,
                     labels.to_px(target.y, (0, top), height) + h)
    slot = width / len(values)
    for i, value in enumerate(values):
        bar = labels.Box(i * slot, 0, (i + 1) * slot, labels.to_px(value, (0, top), height))
        assert box.overlap(bar) == 0, (i, value)
    others = [a for a in fig.layout.annotations if a.yref == "y" and a is not target]
    for other in others:  # clear of the EU27 and BSR average labels
        ow, oh = labels.text_size(other.text, 11)
        y = labels.to_px(other.y, (0, top), height)
        other_box = labels.Box(width - ow, y if other.yanchor == "bottom" else y - oh, width,
                               y + oh if other.yanchor == "bottom" else y)
        assert box.overlap(other_box) == 0, other.text
