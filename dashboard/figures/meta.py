"""The metadata a figure is drawn with, beside its frame: a plain frozen dataclass (dashboard/data fills it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboard.meta import IndicatorMeta


@dataclass(frozen=True)
class ChartMeta:
    """Labels and context of one chart's rows; each chart fills the fields it uses, the rest keep their defaults."""

    title: str = ""
    source: str = ""                     # 'Source: Eurostat, <dataset> (updated <date>)'
    unit: str | None = None              # the data's unit code (PC_HH), None when the chart mixes units
    unit_label: str = ""                 # the unit as a reader reads it ('% of households')
    names: dict[str, str] = field(default_factory=dict)  # geo code -> display name
    # one indicator (trends, ranked bar, map): its catalogue facts (direction, 2030 target, ...)
    indicator: IndicatorMeta | None = None
    dataset: str | None = None
    average_method: str = ""             # how the BSR average was computed, in words
    average_label: str = "BSR average"   # its legend name: 'BSR average (weighted)' / '(unweighted)'
    year: int | None = None
    no_data: tuple[str, ...] = ()        # countries shown without a value
    # scorecard
    columns: tuple[str, ...] = ()
    # relationships: the x and y indicators
    x: str | None = None
    y: str | None = None
    x_title: str = "x"
    y_title: str = "y"
    x_unit: str | None = None
    y_unit: str | None = None
    x_unit_label: str = ""
    y_unit_label: str = ""
    # country profile
    geo: str = ""
    name: str = ""
    # DESI
    order: tuple[str, ...] = ()          # geos in drawing order, the EU reference last
    reference: str | None = None
    references: tuple[str, ...] = ()
    totals: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # geo -> (composite, flags)
    weights: str = ""
    measure: str | None = None
    measure_label: str = ""
    edition_label: str = ""              # 'DESI 2022 (2022 workbook)'
    ranks: dict[str, tuple[int, int]] = field(default_factory=dict)  # geo -> (competition rank, countries ranked)
    custom_weights: bool = False         # the composite uses the visitor's weights, not the official ones
    notes: tuple[str, ...] = ()          # sentences the page shows beside the chart (ignored weights, ...)
