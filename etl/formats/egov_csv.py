"""eGovernment Benchmark country scores CSV decoder (a secondary compilation of the Commission's benchmark).

One row per Member State: `Country` (a Eurostat geo code), then one column per measure, scores 0-100:
O_Av_Citiz, O_Av_Bus (online availability of services for citizens / businesses), Mob_F (mobile
friendliness), U_Supp (user support), Transparency, CB_O_Av_Citiz, CB_O_Av_Bus (cross-border online
availability for citizens / businesses), CB_U_Supp (cross-border user support). UTF-8, usually with a BOM.
The file does not state its measurement year; it is read from the file name (`..._2022data.csv`), else
DecodeError. Each score becomes one observation of dataset 'egov_benchmark' with geo = Country,
period = that year, unit = 'score', dims = {measure: column name, compilation: 'secondary'}, no flags.

A missing column, a repeated column, a wrong cell count, a non-numeric or out-of-range score, an
unknown country, a repeated country or an HTML page is a DecodeError naming the file and the line.
An empty score cell is missing (no row), never 0.
"""
from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from etl import codelists
from etl.formats import Format, column_positions, first_line
from etl.formats.sdmx_csv import observations_frame, parse_number, text_of
from etl.model import Decoded, DecodeError

DATASET = "egov_benchmark"
MEASURES = ["O_Av_Citiz", "O_Av_Bus", "Mob_F", "U_Supp", "Transparency", "CB_O_Av_Citiz", "CB_O_Av_Bus", "CB_U_Supp"]
COLUMNS = ["Country", *MEASURES]
YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
UNIT = "score"


def year_of(source: str) -> str:
    """The measurement year named in the file name."""
    years = YEAR_IN_NAME.findall(Path(source).name)
    if len(set(years)) != 1:
        raise DecodeError(source, "file name", "cannot tell the benchmark year: the name must carry one year (e.g. _2023data)")
    return years[0]


def read_header(row: list[str], source: str) -> dict[str, int]:
    """Column positions by name; every benchmark column is required."""
    return column_positions(row, COLUMNS, source, "an eGovernment Benchmark table")


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode one eGovernment Benchmark CSV into observations of dataset 'egov_benchmark'."""
    if dataset is not None and dataset.lower() != DATASET:
        raise DecodeError(source, "file", f"an eGovernment Benchmark table is dataset {DATASET!r}, not {dataset!r}")
    period = year_of(source)
    rows = [row for row in csv.reader(io.StringIO(text_of(raw, source), newline="")) if row]
    index = read_header(rows[0], source)
    if len(rows) < 2:
        raise DecodeError(source, "line 2", "no countries after the header")
    geos = codelists.codelist("geo")
    records, seen = [], {}
    for line_no, row in enumerate(rows[1:], start=2):
        where = f"line {line_no}"
        if len(row) != len(rows[0]):
            raise DecodeError(source, where, f"{len(row)} cells, the header has {len(rows[0])}")
        geo = row[index["Country"]].strip()
        if geo not in geos or geo.startswith(("EU", "EA")):
            raise DecodeError(source, f"{where}, column Country", f"unknown country {geo!r}: not a Member State code")
        if geo in seen:
            raise DecodeError(source, where, f"country {geo} repeated (first at line {seen[geo]})")
        seen[geo] = line_no
        for measure in MEASURES:
            cell_where = f"{where}, column {measure}"
            value = parse_number(row[index[measure]], source, cell_where)
            if math.isnan(value):
                continue
            if not 0 <= value <= 100:
                raise DecodeError(source, cell_where, f"score {value} outside 0-100")
            records.append({"geo": geo, "period": period, "unit": UNIT, "value": value, "flags": None,
                            "dims": {"measure": measure, "compilation": "secondary"}})
    return Decoded(dataset=DATASET, observations=observations_frame(records, DATASET))


def sniff(path) -> str | None:
    """None for a CSV with the benchmark's Country and online-availability columns, else why not."""
    names = {h.strip() for h in next(csv.reader([first_line(path)]), [])}
    missing = [c for c in ("Country", "O_Av_Bus", "CB_O_Av_Bus") if c not in names]
    return None if not missing else f"eGovernment Benchmark scores (header lacks {missing})"


FORMAT = Format("egov_csv", (".csv", ".csv.gz"), "text/csv", decode, sniff=sniff)
