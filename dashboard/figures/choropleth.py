"""Map: choropleth of Europe from geometry shipped with the app (no CDN), BSR countries outlined."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import colours
from dashboard.figures import common
from dashboard.figures.meta import ChartMeta
from dashboard.i18n import N_, _

# Local Natural Earth topojson: plotly's world file at 1:50m (the one that holds every EU member, Malta and Cyprus
# included) trimmed to the shapes that reach Europe (assets/topojson/trim_to_europe.py); plotly.js asks for
# <scope>_<resolution>m.json, i.e. /assets/topojson/europe/world_50m.json.
TOPOJSON_URL = "/assets/topojson/europe/"
OCEAN = "#f4f8fb"
GRAPH_CONFIG = {"topojsonURL": TOPOJSON_URL}
GEOMETRY_NOTE = N_("Boundaries: Natural Earth (public domain), via plotly.js (MIT).")
GEO_LAYOUT = {
    "scope": "world", "resolution": 50,
    "projection": {"type": "azimuthal equal area", "rotation": {"lon": 15, "lat": 52}},
    "lonaxis": {"range": [-25, 45]}, "lataxis": {"range": [34, 72]},
    "showcountries": True, "countrycolor": "#ffffff", "showland": True, "landcolor": "#e6e6e6",
    # water is the background: the trimmed geometry drops the world-wide ocean polygon
    "showocean": False, "bgcolor": OCEAN, "showlakes": False, "showframe": False, "showcoastlines": False,
    "fitbounds": False,
}


def figure(df: pd.DataFrame, meta: ChartMeta) -> go.Figure:
    """Choropleth (geo, name, iso3, value, flags, is_bsr) with BSR outlines and flags in the hover."""
    title = _("{title}, {year}", title=meta.title, year=meta.year)
    if df.empty:
        return common.empty_figure(_("No values for this year."), title=title)
    flagged = df[df["flags"].notna()]
    source = meta.source
    if not flagged.empty:
        source = _("{source} · flagged: {values}", source=source,
                   values=", ".join(f"{g} {f}" for g, f in zip(flagged["geo"], flagged["flags"])))
    layout = {"geo": GEO_LAYOUT, "margin": {"l": 10, "r": 10, "t": 70, "b": 120}}
    return common.make_figure([_values(df, meta), _bsr_outline(df[df["is_bsr"]])], layout, title=title,
                              unit=meta.unit, source=f"{source} · {_(GEOMETRY_NOTE)}",
                              flags=df["flags"], height=600)


def _values(df: pd.DataFrame, meta: ChartMeta) -> dict:
    """The coloured countries."""
    return {
        "type": "choropleth", "locations": df["iso3"].tolist(), "z": df["value"].astype(float).tolist(),
        "locationmode": "ISO-3", "colorscale": colours.SEQUENTIAL, "reversescale": not meta.indicator.higher_is_better,
        "marker": {"line": {"color": "white", "width": 0.5}},
        "colorbar": {"title": {"text": meta.unit_label}, "thickness": 14},
        "customdata": [[n, common.flag_letters(f), common.hover_flags(f)] for n, f in zip(df["name"], df["flags"])],
        "hovertemplate": f"<b>%{{customdata[0]}}</b><br>%{{z:.1f}} {meta.unit_label}%{{customdata[2]}}<extra></extra>",
        "name": meta.title,
    }


def _bsr_outline(bsr: pd.DataFrame) -> dict:
    """The Baltic Sea Region countries drawn again, transparent, with a heavy outline."""
    return {
        "type": "choropleth", "locations": bsr["iso3"].tolist(), "z": [0] * len(bsr), "locationmode": "ISO-3",
        "showscale": False, "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], "hoverinfo": "skip",
        "marker": {"line": {"color": "#000000", "width": 2.2}}, "name": _("Baltic Sea Region"),
    }
