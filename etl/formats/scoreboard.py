"""Digital Scoreboard fact decoder (digital-decade-desi.digital-strategy.ec.europa.eu): a file or an HTTP body alike.

Three bodies carry the same facts, each becoming observations of dataset 'digital_decade':
- the scoreboard's database export: a JSON list of `core.fact` records, `{"model": "core.fact", "fields":
  {value, flags, indicator: [code], breakdown: [code], unit: [code], country: [code], period: [code],
  reference_period, remarks, ...}}` (the one-element lists are the export's foreign keys);
- the API's JSON answer (`facts/?indicator=...`): a JSON list of flat records with the same field names;
- the API's CSV answer (`chart-groups/{code}/facts/`): header
  `period,country,indicator,breakdown,unit,value,flags,reference_period,remarks`.
A JSON list of `core.indicator` records (scoreboard_indicators.json), or the API's indicator list
(`indicators/?chart_group={code}&format=csv`: `code,label,alt_label,definition,periods,data_source`, the
fields of the scoreboard's IndicatorListSerializer), holds no facts: its labels and definitions become
`Decoded.labels` ('scoreboard_indicator', code, label) and ('scoreboard_definition', code, definition),
so the database keeps them beside the values.

Each fact becomes one observation with
    geo = country ('EU' is EU27_2020: the Digital Decade scoreboard covers the 27 Member States),
    period = reference_period (the data year) when given, else the fact's period ('2030' for targets),
    unit = the scoreboard unit code, dims = {indicator, breakdown, edition (the fact's period, e.g.
    'desi_2026')} plus `remarks` when non-empty; value as published (null is missing), flags as published.
An unknown country, indicator (etl/codelists/scoreboard_indicator.csv) or unit (scoreboard_unit.csv),
a fact lacking a field, a non-numeric value, an unknown flag, a duplicated fact, an HTML page or a body
of any other shape are DecodeErrors naming the file and the record (or line).
"""
from __future__ import annotations

import csv
import io
import json
import math

from etl import codelists
from etl.formats import Format, first_line, head_bytes
from etl.formats.sdmx_csv import observations_frame, parse_flag, parse_number, text_of
from etl.model import Decoded, DecodeError

DATASET = "digital_decade"
FIELDS = ["period", "country", "indicator", "breakdown", "unit", "value", "flags", "reference_period", "remarks"]
REQUIRED = ["period", "country", "indicator", "breakdown", "unit", "value"]
INDICATOR_LIST = ["code", "label", "alt_label", "definition"]  # the API's indicators/?format=csv columns (first four)
LIST_FIELDS = ("indicator", "breakdown", "unit", "country", "period")
LIVE_FORMAT = "scoreboard"  # the catalogue's live_format of datasets the Digital Scoreboard API serves


def geo_of(country: str, source: str, where: str) -> str:
    """The Eurostat geo code of a scoreboard country code."""
    if country == "EU":
        return codelists.EU27
    if country not in codelists.codelist("geo") or country.startswith(("EU", "EA")):
        raise DecodeError(source, where, f"unknown country {country!r}: not a Member State code in etl/codelists/geo.csv")
    return country


def known(dimension: str, code: str, source: str, where: str) -> str:
    """A scoreboard code the project's code list names, else DecodeError."""
    if code not in codelists.codelist(dimension):
        raise DecodeError(source, where, f"unknown {dimension.split('_', 1)[1]} {code!r} (not in etl/codelists/{dimension}.csv)")
    return code


def single(value, name: str, source: str, where: str) -> str:
    """A field that the export writes as a one-element list (or the API as a plain code)."""
    if isinstance(value, list):
        if len(value) != 1:
            raise DecodeError(source, f"{where}, field {name}", f"expected one code, got {value!r}")
        value = value[0]
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
        raise DecodeError(source, f"{where}, field {name}", f"expected a code, got {value!r}")
    return str(value).strip()


def number(value, source: str, where: str) -> float:
    """A JSON value: a number, null (missing) or a numeric string; anything else refused."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise DecodeError(source, f"{where}, field value", f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return parse_number(value, source, f"{where}, field value")
    raise DecodeError(source, f"{where}, field value", f"not a number: {value!r}")


def fact_record(fields: dict, source: str, where: str) -> dict | None:
    """One fact as an observation record, or None when it has neither value nor flag."""
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        raise DecodeError(source, where, f"fact lacks field(s) {missing}")
    codes = {name: single(fields[name], name, source, where) for name in LIST_FIELDS}
    value = number(fields["value"], source, where)
    flags = parse_flag(fields.get("flags") or "", source, f"{where}, field flags")
    if math.isnan(value) and flags is None:
        return None
    known("scoreboard_indicator", codes["indicator"], source, f"{where}, field indicator")
    known("scoreboard_unit", codes["unit"], source, f"{where}, field unit")
    geo = geo_of(codes["country"], source, f"{where}, field country")
    year = fields.get("reference_period")
    year = str(year).strip() if year not in (None, "") else codes["period"]
    dims = {"indicator": codes["indicator"], "breakdown": codes["breakdown"], "edition": codes["period"]}
    remarks = (fields.get("remarks") or "").strip()
    if remarks:
        dims["remarks"] = remarks
    return {"geo": geo, "period": year, "unit": codes["unit"], "dims": dims, "value": value, "flags": flags}


def json_facts(doc, source: str) -> tuple[list[tuple[str, dict]], list[tuple[str, str, str]]]:
    """(where, fields) per fact and the labels of core.indicator records, from a JSON list body."""
    if not isinstance(doc, list):
        raise DecodeError(source, "top level", f"expected a JSON list of scoreboard records, got {type(doc).__name__}")
    facts, labels = [], []
    for number_, record in enumerate(doc, start=1):
        where = f"record {number_}"
        if not isinstance(record, dict):
            raise DecodeError(source, where, f"expected an object, got {type(record).__name__}")
        model = record.get("model")
        if model == "core.indicator":
            labels += indicator_labels(record.get("fields"), source, where)
        elif model == "core.fact":
            if not isinstance(record.get("fields"), dict):
                raise DecodeError(source, where, "core.fact record without a 'fields' object")
            facts.append((where, record["fields"]))
        elif model is None and "indicator" in record:
            facts.append((where, record))
        else:
            raise DecodeError(source, where, f"not a scoreboard fact or indicator record (model {model!r})")
    return facts, labels


def indicator_labels(fields, source: str, where: str) -> list[tuple[str, str, str]]:
    """The label and definition of one core.indicator record."""
    if not isinstance(fields, dict) or not isinstance(fields.get("code"), str) or not fields["code"].strip():
        raise DecodeError(source, where, "core.indicator record without a code")
    code = fields["code"].strip()
    out = []
    label = (fields.get("label") or fields.get("alt_label") or "").strip()
    if label:
        out.append(("scoreboard_indicator", code, label))
    definition = (fields.get("definition") or "").strip()
    if definition:
        out.append(("scoreboard_definition", code, definition))
    return out


def csv_rows(text: str, source: str) -> tuple[list[str], list[tuple[str, dict]]]:
    """The lower-cased header and (where, fields) per line of a CSV answer, every line as wide as the header."""
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    if not rows:
        raise DecodeError(source, "line 1", "an empty CSV: no header")
    header = [h.strip().lower() for h in rows[0]]
    out = []
    for line_no, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DecodeError(source, f"line {line_no}", f"{len(row)} cells, the header has {len(header)}")
        out.append((f"line {line_no}", dict(zip(header, (cell.strip() for cell in row)))))
    return header, out


def csv_indicator_labels(header: list[str], rows: list[tuple[str, dict]], source: str) -> list[tuple[str, str, str]]:
    """The labels and definitions of the API's indicator list CSV."""
    if not rows:
        raise DecodeError(source, "line 2", "an indicator list without indicators")
    return [label for where, fields in rows for label in indicator_labels(fields, source, where)]


def csv_facts(header: list[str], rows: list[tuple[str, dict]], source: str) -> list[tuple[str, dict]]:
    """(where, fields) per line of the API's facts CSV answer."""
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise DecodeError(source, "line 1", f"not a scoreboard facts CSV: header lacks {missing} (got {header[:9]})")
    facts = []
    for where, fields in rows:
        fields["value"] = fields["value"] or None
        facts.append((where, fields))
    if not facts:
        raise DecodeError(source, "line 2", "no facts after the header")
    return facts


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode a scoreboard JSON export, API JSON list or API CSV into observations of 'digital_decade'."""
    if dataset is not None and dataset.lower() != DATASET:
        raise DecodeError(source, "file", f"scoreboard facts are dataset {DATASET!r}, not {dataset!r}")
    text = text_of(raw, source)
    labels: list[tuple[str, str, str]] = []
    if text.lstrip()[:1] in "[{":
        try:
            doc = json.loads(text)
        except ValueError as err:
            raise DecodeError(source, f"character {getattr(err, 'pos', 0)}", f"not valid JSON ({err})") from None
        facts, labels = json_facts(doc, source)
        if not facts and not labels:
            raise DecodeError(source, "top level", "an empty list: no facts and no indicator definitions")
    else:
        header, rows = csv_rows(text, source)
        if header[:len(INDICATOR_LIST)] == INDICATOR_LIST:
            facts, labels = [], csv_indicator_labels(header, rows, source)
        else:
            facts = csv_facts(header, rows, source)
    records, seen = [], {}
    for where, fields in facts:
        record = fact_record(fields, source, where)
        if record is None:
            continue
        key = (record["geo"], record["period"], record["unit"],
               tuple(sorted((k, v) for k, v in record["dims"].items() if k != "remarks")))
        if key in seen:
            raise DecodeError(source, where, f"duplicated fact (first at {seen[key]})")
        seen[key] = where
        records.append(record)
    return Decoded(dataset=DATASET, observations=observations_frame(records, DATASET), labels=labels)


def sniff(path) -> str | None:
    """None for a JSON list (the scoreboard's records) or a CSV with the API's fact columns, else why not."""
    if path.name.lower().endswith((".json", ".json.gz")):
        return None if head_bytes(path, 4096).lstrip()[:1] == b"[" else "Digital Scoreboard records (not a JSON list)"
    header = [h.strip().lower() for h in next(csv.reader([first_line(path)]), [])]
    if header[:len(INDICATOR_LIST)] == INDICATOR_LIST:
        return None
    missing = [c for c in REQUIRED if c not in header]
    return None if not missing else f"Digital Scoreboard facts (header lacks {missing})"


FORMAT = Format("scoreboard", (".json", ".json.gz", ".csv", ".csv.gz"), "application/json", decode, sniff=sniff,
                live=(LIVE_FORMAT,))  # from the Digital Scoreboard API (etl/sources/scoreboard.py), not Eurostat
