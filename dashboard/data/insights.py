"""The insights of the current database: the headline indicators' values read once per database version and
handed to the pure rules in dashboard.insights (which never query)."""
from __future__ import annotations

import pandas as pd

from dashboard import i18n
from dashboard.data import queries
from dashboard.data.connection import remember
from dashboard.insights import Insight, Twin, compute_insights, twins_of
from dashboard.meta import IndicatorMeta


def headline_inputs() -> tuple[list[IndicatorMeta], pd.DataFrame, dict[str, str], list[str], dict[str, Twin]]:
    """Headline catalogue rows, their values (and their newer twins'), geo names, the peer group and the twins."""
    catalogue = queries.catalogue()
    headline = catalogue[catalogue["headline"]] if "headline" in catalogue.columns else catalogue.iloc[0:0]
    metas = [queries.indicator_meta(i) for i in headline["id"]]
    twins = twins_of(catalogue, [meta.id for meta in metas])
    ids = [*(meta.id for meta in metas), *(twin.indicator for twin in twins.values())]
    frames = [queries.indicator_frame(i) for i in ids]
    columns = ["indicator", "geo", "period", "year", "value", "flags"]
    values = pd.concat([f[columns] for f in frames], ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return metas, values, queries.geo_names(), queries.peer_group(), twins


def insights(as_of: int | None = None, only: tuple[str, ...] | None = None) -> list[Insight]:
    """All insights for the current database, computed on first request and again whenever it is rebuilt; `as_of`
    a year: the insights as they read in that year (only values up to it), what a page showing that year says;
    `only`: just those indicators' (a page of one indicator in a past year need not compute all of them)."""
    def make() -> list[Insight]:
        """Compute every insight from the database."""
        metas, values, names, peers, twins = headline_inputs()
        if only is not None:
            metas = [m for m in metas if m.id in only]
        if as_of is not None:
            values = values[values["year"] <= as_of]
        return compute_insights(metas, values, names, bsr=peers, twins=twins)

    return remember(("insights", as_of, only, i18n.current()), make)
