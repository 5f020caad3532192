"""One colour per country on every page, from colour-blind-safe palettes (Okabe-Ito, then Paul Tol's)."""
from __future__ import annotations

import zlib

from dashboard.meta import BSR_AVERAGE, EU27

# Okabe & Ito (2008) "Color Universal Design", without black (kept for EU27) — fixed for the peer group.
OKABE_ITO = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
# Paul Tol's "muted" qualitative scheme, for the two peers Okabe-Ito cannot cover and for added countries.
TOL_MUTED = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"]

COUNTRY_COLOURS: dict[str, str] = {
    "EE": OKABE_ITO["blue"],
    "LV": OKABE_ITO["vermillion"],
    "LT": OKABE_ITO["bluish_green"],
    "PL": OKABE_ITO["reddish_purple"],
    "FI": OKABE_ITO["sky_blue"],
    "SE": OKABE_ITO["orange"],
    "DK": TOL_MUTED[7],   # wine
    "DE": TOL_MUTED[4],   # olive
    "NO": TOL_MUTED[0],   # indigo
    EU27: "#000000",
    BSR_AVERAGE: "#555555",
}
# Countries a user adds get a stable colour from what is left of Tol's palette (hash of the code, not list position,
# so a country keeps its colour whatever else is selected).
EXTRA_COLOURS = [c for c in TOL_MUTED if c not in COUNTRY_COLOURS.values()] + ["#BBBBBB", "#6699CC", "#997700"]

REFERENCE_DASH = {EU27: "solid", BSR_AVERAGE: "dash"}
HIGHLIGHT = "#0072B2"      # BSR bars on the ranked chart
MUTED = "#C8C8C8"          # other countries' bars
TARGET = "#D55E00"         # 2030 target lines
BETTER = "#1A9850"         # scorecard: better than EU27
WORSE = "#D73027"          # scorecard: worse than EU27
NEUTRAL = "#F7F7F7"        # scorecard: within the tolerance of EU27
# Sequential colour-blind-safe scale for the map (viridis is perceptually uniform and CVD-safe).
SEQUENTIAL = "Viridis"


def colour_for(geo: str) -> str:
    """The fixed colour of a country or reference series."""
    if geo in COUNTRY_COLOURS:
        return COUNTRY_COLOURS[geo]
    return EXTRA_COLOURS[zlib.crc32(geo.encode()) % len(EXTRA_COLOURS)]


def dash_for(geo: str) -> str:
    """Line dash: EU27 solid black, BSR average dashed, countries solid."""
    return REFERENCE_DASH.get(geo, "solid")


def width_for(geo: str) -> float:
    """Reference lines drawn a little heavier than country lines."""
    return 3.0 if geo in REFERENCE_DASH else 2.0
