"""The Digital Scoreboard live source: the Commission's API at digital-decade-desi.digital-strategy.ec.europa.eu.

Endpoints (the recorded folder's README; the Commission's digital-agenda code):
- /api/v1/chart-groups/{group}/facts/   CSV `period,country,indicator,breakdown,unit,value,flags,reference_period,
                                        remarks` (groups such as desi, desi-2022, dd-trajectories, key-indicators)
- /api/v1/facts/?indicator=&breakdown=&unit=&country=&period=   the same facts as a JSON list
- /api/v1/indicators/?chart_group={group}&format=csv             the indicator codes of a group
Downloads use the Eurostat client's machinery (urllib3 retries, identity encoding, size limit, deadline); the body
is decoded once by etl.formats.scoreboard, the reader of the recorded fact files, before anything is stored.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import re
from urllib.parse import urlencode

from etl import config
from etl.formats import registry
from etl.sources import rawstore
from etl.sources.eurostat import EurostatClient, RejectedBody, decode_body, encode, http_date_to_iso

DATASET = "digital_decade"
DECODER = "scoreboard"
CHART_GROUP_FACTS = "/api/v1/chart-groups/{group}/facts/"
FACTS = "/api/v1/facts/"
INDICATORS = "/api/v1/indicators/"
DEFAULT_GROUPS = ("desi",)
GROUP_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
FACT_FILTERS = ("indicator", "breakdown", "unit", "country", "period")


def check_group(group: str) -> str:
    """A chart-group code safe to put into a URL path."""
    if not GROUP_PATTERN.match(group or ""):
        raise ValueError(f"not a Digital Scoreboard chart group: {group!r}")
    return group


def chart_group_url(base_url: str, group: str) -> str:
    """The CSV of every fact of a chart group."""
    return base_url + CHART_GROUP_FACTS.format(group=encode(check_group(group)))


def facts_url(base_url: str, **filters: str) -> str:
    """The JSON facts matching indicator/breakdown/unit/country/period."""
    unknown = sorted(set(filters) - set(FACT_FILTERS))
    if unknown:
        raise ValueError(f"facts/ takes {FACT_FILTERS}, not {unknown}")
    return base_url + FACTS + ("?" + urlencode(filters) if filters else "")


def indicators_url(base_url: str, group: str) -> str:
    """The indicator codes of a chart group, as CSV."""
    return base_url + INDICATORS + "?" + urlencode({"chart_group": check_group(group), "format": "csv"})


class ScoreboardClient(EurostatClient):
    """The Digital Scoreboard API through the same bounded, retrying downloads as Eurostat's."""

    def __init__(self, base_url: str | None = None, **kwargs):
        super().__init__(base_url or config.scoreboard_base_url(), **kwargs)

    def download(self, url: str):
        """One accepted answer (4xx refused, HTML and error documents rejected) and its decoded facts."""
        registry.get(DECODER)  # KeyError naming the known formats while the fact reader is not registered
        answer = self.get(url, DATASET)
        self.refuse_error(answer, DATASET)
        self.reject_unusable(DATASET, answer)
        try:
            decoded = decode_body(DECODER, answer.body, url.rsplit("/api/", 1)[-1], DATASET)
        except Exception as err:  # any decoder failure means the body is not accepted
            reason = getattr(err, "reason", None) or f"{err.__class__.__name__}: {err}"
            where = f" at {err.where}" if hasattr(err, "where") else ""
            raise RejectedBody(DATASET, url, f"body rejected by the {DECODER} decoder{where}: {reason}") from err
        return answer, decoded

    def fetch_group(self, group: str, raw_dir=None) -> rawstore.RawFile:
        """Download, decode and store one chart group's facts (CSV); nothing is written unless it decoded."""
        url = chart_group_url(self.base_url, group)
        answer, decoded = self.download(url)
        decoded.source_updated = decoded.source_updated or http_date_to_iso(answer.headers.get("Last-Modified"))
        meta = {"url": url, "retrieved_at": rawstore.utc_now_iso(), "http_status": answer.status,
                "source_updated": decoded.source_updated, "content_type": answer.headers.get("Content-Type"),
                "format": DECODER, "chart_group": group}
        raw = rawstore.write_raw(DATASET, f"{DATASET}_{group.replace('-', '_')}.csv", answer.body, meta,
                                 raw_dir=raw_dir)
        return dataclasses.replace(raw, decoded=decoded)

    def fetch_indicators(self, group: str, raw_dir=None) -> rawstore.RawFile:
        """Download, decode and store the labels and definitions of a chart group's indicators (CSV)."""
        url = indicators_url(self.base_url, group)
        answer, decoded = self.download(url)
        if not decoded.labels:
            raise RejectedBody(DATASET, url, "indicator list without labels or definitions")
        meta = {"url": url, "retrieved_at": rawstore.utc_now_iso(), "http_status": answer.status,
                "source_updated": http_date_to_iso(answer.headers.get("Last-Modified")),
                "content_type": answer.headers.get("Content-Type"), "format": DECODER, "chart_group": group}
        raw = rawstore.write_raw(DATASET, f"{DATASET}_indicators_{group.replace('-', '_')}.csv", answer.body, meta,
                                 raw_dir=raw_dir)
        return dataclasses.replace(raw, decoded=decoded)

    def fetch_dataset(self, groups=DEFAULT_GROUPS, raw_dir=None) -> list[rawstore.RawFile]:
        """Every chart group of the dataset: its facts and its indicators' labels and definitions, a raw file each
        (each stored only once its body decoded; the refresh publishes nothing of the dataset unless all did)."""
        groups = [check_group(group) for group in groups]
        return [fetch(group, raw_dir=raw_dir) for group in groups for fetch in (self.fetch_group, self.fetch_indicators)]

    def facts(self, **filters: str):
        """The decoded facts matching the filters (JSON list answer)."""
        return self.download(facts_url(self.base_url, **filters))[1]

    def indicator_codes(self, group: str) -> list[str]:
        """The indicator codes the API lists for a chart group (CSV with a `code` column)."""
        url = indicators_url(self.base_url, group)
        answer = self.get(url, DATASET)
        self.refuse_error(answer, DATASET)
        rows = list(csv.DictReader(io.StringIO(answer.body.decode("utf-8-sig"))))
        if not rows or "code" not in rows[0]:
            raise RejectedBody(DATASET, url, "indicator list without a 'code' column")
        return [row["code"] for row in rows]
