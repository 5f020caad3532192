"""DESI scoreboard CSV export decoder (digital-agenda-data.eu: observation, time_period, ref_area, ...).

Columns: observation (the cell's URI), time_period, ref_area, indicator, breakdown, unit_measure, value,
flag, note. Each line becomes one observation of dataset 'desi' with
    geo = ref_area as a Eurostat geo code, period = time_period (the DESI edition year),
    unit = unit_measure (as published, lower case), dims = {indicator, breakdown, unit_measure}
    plus `note` when the line has one; flags exactly as published.

ref_area -> geo: the export already uses Eurostat's EL and UK for Greece and the United Kingdom; ISO's
GR and GB, should an export carry them, are mapped to EL and UK. The export's aggregate 'EU' is the EU
average of that DESI edition: the editions up to 2020 covered the 28 Member States (the UK is in the
file), so 'EU' -> EU28 for time_period <= 2020 and 'EU' -> EU27_2020 from the 2021 edition on. Every
other ref_area must already be a Eurostat geo code from etl/codelists/geo.csv, else DecodeError.

A line with neither value nor flag is no observation; a flag without a value is a row with a NULL
value. Wrong cell counts, HTML pages, unparsable numbers, unknown flags, unknown areas, a URI that
disagrees with its own line and duplicated observations are DecodeErrors naming file and line.
"""
from __future__ import annotations

import csv
import io
import math

from etl import codelists
from etl.formats import Format, column_positions, first_line
from etl.formats.sdmx_csv import observations_frame, parse_flag, parse_number, paused_gc, text_of
from etl.model import Decoded, DecodeError

DATASET = "desi"
COLUMNS = ["observation", "time_period", "ref_area", "indicator", "breakdown", "unit_measure", "value", "flag", "note"]
REQUIRED = COLUMNS[1:]
RECOGNISED_BY = ("time_period", "ref_area", "indicator", "breakdown", "unit_measure", "value")  # what sniff() looks for
ISO_TO_EUROSTAT = {"GR": "EL", "GB": "UK"}
LAST_EU28_EDITION = 2020    # the UK left after the DESI 2020 edition; DESI 2021 is EU27


def eurostat_geo(ref_area: str, period: str, source: str, where: str) -> str:
    """The Eurostat geo code of a DESI ref_area (see the module docstring for the mapping)."""
    if ref_area == "EU":
        if not period[:4].isdigit():
            raise DecodeError(source, where, f"cannot tell which EU aggregate period {period!r} means")
        return codelists.EU28 if int(period[:4]) <= LAST_EU28_EDITION else codelists.EU27
    geo = ISO_TO_EUROSTAT.get(ref_area, ref_area)
    if geo not in codelists.codelist("geo"):
        raise DecodeError(source, where, f"unknown ref_area {ref_area!r}: not a Eurostat geo code in etl/codelists/geo.csv")
    return geo


def read_header(header: list[str], source: str) -> dict[str, int]:
    """Column positions by name; every DESI column but 'observation' is required."""
    return column_positions(header, REQUIRED, source, "a DESI export", shown=9)


def check_uri(uri: str, cells: dict[str, str], source: str, where: str) -> None:
    """The observation URI ends with the line's own indicator/breakdown/unit/area/period, else a column slipped."""
    if not uri.startswith("http"):
        return
    tail = uri.rstrip("/").split("/")[-5:]
    own = [cells["indicator"], cells["breakdown"], cells["unit_measure"], cells["ref_area"], cells["time_period"]]
    if tail != own:
        raise DecodeError(source, where, f"observation URI {uri!r} does not match the line's own keys {own}")


def read_line(row: list[str], index: dict[str, int], source: str, line_no: int) -> dict | None:
    """One export line as a record, or None when it has neither value nor flag."""
    where = f"line {line_no}"
    cells = {name: row[col].strip() for name, col in index.items()}
    value = parse_number(cells["value"], source, f"{where}, column value")
    flags = parse_flag(cells["flag"], source, f"{where}, column flag")
    if math.isnan(value) and flags is None:
        return None
    for key in ("time_period", "ref_area", "indicator", "breakdown", "unit_measure"):
        if not cells[key]:
            raise DecodeError(source, f"{where}, column {key}", f"empty {key}")
    if "observation" in cells:
        check_uri(cells["observation"], cells, source, f"{where}, column observation")
    dims = {"indicator": cells["indicator"], "breakdown": cells["breakdown"], "unit_measure": cells["unit_measure"]}
    if cells["note"]:
        dims["note"] = cells["note"]
    geo = eurostat_geo(cells["ref_area"], cells["time_period"], source, f"{where}, column ref_area")
    return {"geo": geo, "period": cells["time_period"], "unit": cells["unit_measure"], "dims": dims,
            "value": value, "flags": flags}


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode the DESI scoreboard CSV export into tidy observations of dataset 'desi'."""
    with paused_gc():
        return decode_lines(raw, source, dataset)


def decode_lines(raw: bytes, source: str, dataset: str | None) -> Decoded:
    """decode(), with the garbage collector paused by the caller."""
    if dataset is not None and dataset.lower() != DATASET:
        raise DecodeError(source, "file", f"a DESI export is dataset {DATASET!r}, not {dataset!r}")
    rows = [row for row in csv.reader(io.StringIO(text_of(raw, source), newline="")) if row]
    index = read_header(rows[0], source)
    width = len(rows[0])
    if len(rows) < 2:
        raise DecodeError(source, "line 2", "no observations after the header")
    records, seen = [], {}
    for line_no, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise DecodeError(source, f"line {line_no}", f"{len(row)} cells, the header has {width}")
        record = read_line(row, index, source, line_no)
        if record is None:
            continue
        key = (record["geo"], record["period"], tuple(sorted(record["dims"].items())))
        if key in seen:
            raise DecodeError(source, f"line {line_no}", f"duplicated observation (first at line {seen[key]})")
        seen[key] = line_no
        records.append(record)
    return Decoded(dataset=DATASET, observations=observations_frame(records, DATASET), source_updated=None)


def sniff(path) -> str | None:
    """None for a CSV with the DESI export's columns, else why it is not one."""
    names = {h.strip().lower() for h in next(csv.reader([first_line(path)]), [])}
    missing = [c for c in RECOGNISED_BY if c not in names]
    return None if not missing else f"the DESI export (header lacks {missing})"


FORMAT = Format("desi_csv", (".csv", ".csv.gz"), "text/csv", decode, sniff=sniff)
