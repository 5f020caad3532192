"""What every chart shares: title, unit, source line, flag rendering (text labels, hollow markers, breaks), flag legend."""
from __future__ import annotations

import math
import textwrap

import pandas as pd
import plotly.graph_objects as go
from babel import numbers

from dashboard import i18n
from dashboard.i18n import N_, _
from dashboard.meta import IndicatorMeta

# Values the source marks as not final or not fully reliable get hollow markers.
HOLLOW_FLAGS = frozenset("epu")
BREAK_FLAG = "b"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"  # no web fonts: served offline


def flag_letters(flags) -> str:
    """The flag string as published, '' when none (None/NaN)."""
    if flags is None or (isinstance(flags, float) and math.isnan(flags)):
        return ""
    return str(flags)


def is_hollow(flags) -> bool:
    """True when the value is estimated, provisional or of low reliability."""
    return bool(set(flag_letters(flags)) & HOLLOW_FLAGS)


def has_break(flags) -> bool:
    """True when the value starts a break in the time series."""
    return BREAK_FLAG in flag_letters(flags)


def marker_symbol(flags, base: str = "circle") -> str:
    """Open marker for e/p/u values, filled otherwise."""
    return f"{base}-open" if is_hollow(flags) else base


def describe_flags(flags) -> str:
    """'b: break in time series; e: estimated' (every letter explained), '' when none."""
    return "; ".join(f"{letter}: {i18n.flag_meaning(letter)}" for letter in flag_letters(flags))


def hover_flags(flags) -> str:
    """Hover line for a value's flags, '' when it has none."""
    text = describe_flags(flags)
    return "<br>" + _("Flag {letters} — {meaning}", letters=flag_letters(flags), meaning=text) if text else ""


def source_line(dataset: str | None, updated: str | None) -> str:
    """'Source: Eurostat, isoc_ci_in_h (updated 2025-04-08)' (the Commission for the DESI)."""
    publisher = _("European Commission, DESI") if (dataset or "").lower().startswith("desi") else "Eurostat"
    name = f"{publisher}, {dataset}" if dataset and publisher == "Eurostat" else publisher
    if updated:
        return _("Source: {name} (updated {date})", name=name, date=i18n.format_date(updated))
    return _("Source: {name}", name=name)


def flag_legend_text(flag_strings, *, markup: bool = True) -> str:
    """Legend of the flag letters that occur, plus what hollow markers mean ('Flags: <b>b</b> break in time series');
    markup=False gives plain text for documents ('Flags: b = break in time series · u = low reliability')."""
    letters = sorted({letter for f in flag_strings for letter in flag_letters(f)})
    if not letters:
        return ""
    if not markup:
        return _("Flags: {list}", list=" · ".join(f"{letter} = {i18n.flag_meaning(letter)}" for letter in letters))
    parts = [f"<b>{letter}</b> {i18n.flag_meaning(letter)}" for letter in letters]
    if set(letters) & HOLLOW_FLAGS:
        parts.append(_("hollow marker = estimated/provisional/low reliability"))
    return _("Flags: {list}", list=" · ".join(parts))


def target_label(indicator: IndicatorMeta) -> str:
    """'2030 target: 100' (the catalogue's own target label when it has one), the number in the locale's format."""
    target = indicator.target_2030
    return _("{target}: {value}", target=indicator.target_label or _("2030 target"),
             value=i18n.format_number(target, 0 if float(target).is_integer() else 1))


def significant(value, digits: int = 3) -> str:
    """A number to `digits` significant digits in the locale's format ('%.3g' without an exponent); missing is ':'."""
    if value is None or pd.isna(value):
        return i18n.MISSING
    return numbers.format_decimal(value, format="@" + "#" * (digits - 1), locale=i18n.locale())


def house_layout(*, title: str, unit: str | None, source: str, flags=(), height: int = 480,
                 notes_offset: int = 45) -> dict:
    """The house layout as a plain dict: title, fonts, margins, source line and flag legend under the plot.

    notes_offset: pixels between the plot area and the source line (more when tick labels are long or rotated).
    """
    legend = flag_legend_text(flags)
    notes = [source] + ([legend] if legend else [])
    annotations = [
        {"text": text, "xref": "paper", "yref": "paper", "x": 0, "y": 0, "xanchor": "left", "yanchor": "top",
         "yshift": -notes_offset - 18 * i, "showarrow": False, "font": {"size": 11, "color": "#444"},
         "name": "source" if i == 0 else "flag-legend"}
        for i, text in enumerate(notes)
    ]
    return {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 17}},
        "template": template(),
        "font": {"family": FONT, "size": 13},
        "separators": i18n.separators(),  # decimal comma and group space where the locale uses them
        "height": height,
        "margin": {"l": 60, "r": 30, "t": 70, "b": notes_offset + 25 + 18 * len(notes)},
        "meta": {"unit": unit, "source": source, "flag_legend": legend},
        "annotations": annotations,
    }


def finish(fig: go.Figure, *, title: str, unit: str | None, source: str, flags=(), height: int = 480) -> go.Figure:
    """Apply the house layout to a go.Figure (keeps the figure's own annotations; adds source and flag legend)."""
    layout = house_layout(title=title, unit=unit, source=source, flags=flags, height=height)
    notes = layout.pop("annotations")
    fig.update_layout(layout)
    for note in notes:
        fig.add_annotation(note)
    return fig


NOTE_CHARS = 160      # longest source line drawn on one line under a chart (font 11 on a ~1000 px figure)
NOTE_LINE_PX = 15     # height of one extra line of an 11 px annotation


def make_figure(traces: list[dict], layout: dict, *, title: str, unit: str | None, source: str, flags=(),
                height: int = 480, shapes=(), annotations=(), notes_offset: int = 45,
                chars: int | None = None) -> go.Figure:
    """Build a figure from plain dicts without plotly's per-property validation (tests validate instead: fast).

    chars: break a source line longer than this over several lines under the chart (the flag legend and the
    bottom margin move down with it); None keeps it on one line."""
    house = house_layout(title=title, unit=unit, source=source, flags=flags, height=height, notes_offset=notes_offset)
    if chars is not None:
        _wrap_source(house, source, chars)
    house["annotations"] = list(annotations) + house["annotations"]
    house["shapes"] = list(shapes)
    return go.Figure(data=traces, layout={**house, **layout}, _validate=False)


def _wrap_source(house: dict, source: str, chars: int) -> None:
    """Break the house layout's source note at `chars` characters, moving the notes under it down."""
    lines = textwrap.wrap(source, chars, break_on_hyphens=False) or [source]
    extra = NOTE_LINE_PX * (len(lines) - 1)
    for note in house["annotations"]:
        if note.get("name") == "source":
            note.update(text="<br>".join(lines), align="left")
        else:
            note["yshift"] -= extra
    house["margin"] = {**house["margin"], "b": house["margin"]["b"] + extra}


def reference_line(y: float, *, colour: str, dash: str, label: str, position: str = "right",
                   above: bool = True) -> tuple[dict, dict]:
    """A labelled horizontal line across the plot (shape, annotation) as dicts."""
    shape = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
             "line": {"color": colour, "dash": dash, "width": 2}, "layer": "above", "name": label}
    note = {"text": label, "xref": "paper", "x": 1 if position == "right" else 0, "yref": "y", "y": y,
            "xanchor": position, "yanchor": "bottom" if above else "top", "showarrow": False,
            "font": {"color": colour, "size": 11}, "bgcolor": "rgba(255,255,255,0.75)"}
    return shape, note


GRID = "#EBF0F8"
# A small house template (white background, light grid) written out as a dict: naming a built-in template makes
# plotly copy its large definition into every figure, which cost ~10-20 ms per chart.
HOUSE_TEMPLATE = {
    "layout": {
        "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "closest",
        "hoverlabel": {"align": "left", "bgcolor": "white"},
        "xaxis": {"gridcolor": GRID, "linecolor": GRID, "zerolinecolor": GRID, "ticks": "", "automargin": True},
        "yaxis": {"gridcolor": GRID, "linecolor": GRID, "zerolinecolor": GRID, "ticks": "", "automargin": True},
        "geo": {"bgcolor": "white", "landcolor": "#E5ECF6", "subunitcolor": "white"},
        "colorway": ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#882255", "#999933",
                     "#332288"],
    }
}


def template() -> dict:
    """The house template (see HOUSE_TEMPLATE)."""
    return HOUSE_TEMPLATE


def empty_figure(message: str, *, title: str = "") -> go.Figure:
    """A blank chart with a message in the middle (no data for this selection)."""
    layout = {
        "title": {"text": title, "x": 0}, "template": template(), "height": 360, "font": {"family": FONT},
        "separators": i18n.separators(),
        "xaxis": {"visible": False}, "yaxis": {"visible": False}, "meta": {"empty": True},
        "annotations": [{"text": message, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper", "showarrow": False,
                         "font": {"size": 15}, "name": "empty"}],
    }
    return go.Figure(data=[], layout=layout, _validate=False)


def unit_label(unit: str | None) -> str:
    """Human label of a Eurostat unit code for axis titles."""
    labels = {
        "PC_HH": N_("% of households"), "PC_IND": N_("% of individuals"), "PC_ENT": N_("% of enterprises"),
        "PC": "%", "PC_EMP": N_("% of total employment"), "PC_GDP": N_("% of GDP"), "THS_PER": N_("thousand persons"),
        "PC_TURN": N_("% of turnover"), "PC_HH_IACC": N_("% of households with internet access"),
    }
    return _(labels[unit]) if unit in labels else (unit or "")
