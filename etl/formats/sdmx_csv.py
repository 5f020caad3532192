"""SDMX-CSV decoder: SDMX-CSV 2.0 (STRUCTURE,STRUCTURE_ID,...) and 1.0 (DATAFLOW,LAST UPDATE,...), codes or labels.

Layout: metadata columns (STRUCTURE, STRUCTURE_ID, STRUCTURE_NAME, ACTION | DATAFLOW, LAST UPDATE), then one
column per dimension (freq, ..., geo), TIME_PERIOD, OBS_VALUE, OBS_FLAG and optionally CONF_STATUS. The
Data Browser can also write a title column ('Time frequency') after each code column; such columns are
read as labels of the code before them.

Label exports ('Estonia', 'Annual' instead of EE, A) are recognised from the freq column (or geo when
there is no freq) and every label is mapped back to its code with etl.codelists. Nothing is guessed: a
label the code list does not know is a DecodeError naming file, line, column and label, so an analyst
can add it to etl/codelists/<dimension>.csv.

Values: an empty OBS_VALUE (or ':') is missing (NaN), never 0. A row with neither a value nor a flag
(nor a confidentiality status) is no observation and yields no row; a flag without a value is a row
with a NULL value. OBS_FLAG is kept exactly as published.

CONF_STATUS (choice documented here): a non-empty status is kept verbatim in dims as `conf_status`,
so nothing published is lost; when the status marks the cell confidential (anything but F = free)
the Eurostat flag letter 'c' is appended to the flags unless already present, so that downstream
code which only reads `flags` still sees the cell as confidential. An unknown status is refused.

Dataset: from STRUCTURE_ID/DATAFLOW ('ESTAT:ISOC_E_DII(1.0)' -> 'isoc_e_dii',
'ESTAT:ISOC_SK_DSKL_I21$DEFAULTVIEW(1.0)' -> 'isoc_sk_dskl_i21'). source_updated from LAST UPDATE,
which Eurostat writes as dd/mm/yy HH:MM:SS ('12/12/24 11:00:00' -> '2024-12-12T11:00:00').
"""
from __future__ import annotations

import csv
import gc
import io
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from etl import codelists
from etl.formats import Format, first_line, iso_stamp
from etl.model import DECODED_COLUMNS, Decoded, DecodeError, flag_problem

METADATA_COLUMNS = {"STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION", "DATAFLOW", "LAST UPDATE"}
MEASURE_COLUMNS = {"TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"}
# Title columns the Data Browser writes next to the measure columns in its "codes and labels" export.
MEASURE_TITLES = {"Time", "Observation value", "Observation status (Flag) V2 structure",
                  "Observation status (Flag)", "Confidentiality status (flag)"}
# SDMX CL_CONF_STATUS: F is free for publication; every other status withholds the cell.
CONF_STATUS_CODES = {"F", "N", "C", "D", "S", "A", "O", "T", "G", "M"}
MISSING_MARKERS = {"", ":"}
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
CODE = re.compile(r"^[A-Za-z0-9_\-.+]+$")
STRUCTURE_REF = re.compile(r"^(?:[A-Za-z0-9_]+:)?([A-Za-z0-9_]+)(?:\$[A-Za-z0-9_]+)?(?:\([0-9.]+\))?$")


def text_of(raw: bytes, source: str) -> str:
    """The body as text (UTF-8, BOM dropped); refuses empty bodies and HTML pages."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DecodeError(source, f"byte {err.start}", "not UTF-8 text") from None
    head = text.lstrip()[:512].lower()
    if not head:
        raise DecodeError(source, "line 1", "empty file")
    if head.startswith("<") or "<html" in head or "<!doctype" in head:
        raise DecodeError(source, "line 1", "an HTML/XML page, not CSV (error page or login wall?)")
    return text


@contextmanager
def paused_gc():
    """Pause the cyclic garbage collector while a decoder builds its rows, then restore it.

    A decoder allocates hundreds of thousands of small tuples, dicts and strings and frees none; each
    allocation burst triggers collections that scan them all again, which was ~30% of a decode's CPU.
    The rows hold no reference cycles, so nothing is lost by collecting later.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def observations_frame(records: list[dict], dataset: str) -> pd.DataFrame:
    """DECODED_COLUMNS from record dicts: value float64 (NaN = missing), flags/unit as objects with None."""
    frame = pd.DataFrame({
        "dataset": pd.Series([dataset] * len(records), dtype=object),
        "geo": pd.Series([r["geo"] for r in records], dtype=object),
        "period": pd.Series([r["period"] for r in records], dtype=object),
        "unit": pd.Series([r["unit"] for r in records], dtype=object),
        "dims": pd.Series([r["dims"] for r in records], dtype=object),
        "value": pd.Series([r["value"] for r in records], dtype="float64"),
        "flags": pd.Series([r["flags"] for r in records], dtype=object),
    })
    return frame[DECODED_COLUMNS]


def parse_number(cell: str, source: str, where: str) -> float:
    """A published number; '' and ':' are missing (NaN), never 0; anything else unreadable is refused."""
    text = cell.strip()
    if text in MISSING_MARKERS:
        return math.nan
    if not NUMBER.match(text):
        raise DecodeError(source, where, f"unparsable number {cell!r}")
    return float(text)


def parse_flag(cell: str | None, source: str, where: str) -> str | None:
    """A published flag kept exactly as written; None when empty; unknown letters are refused."""
    text = (cell or "").strip()
    if not text:
        return None
    reason = flag_problem(text, cell)
    if reason:
        raise DecodeError(source, where, reason)
    return text


def with_confidential(flags: str | None) -> str:
    """Flags with the confidentiality letter 'c' appended when it is not already there."""
    flags = flags or ""
    return flags if "c" in flags else flags + "c"


def dataset_code(reference: str, source: str, where: str) -> str:
    """'ESTAT:ISOC_E_DII(1.0)' or 'ESTAT:X$DEFAULTVIEW(1.0)' -> the lower-case dataset code."""
    match = STRUCTURE_REF.match(reference.strip())
    if not match:
        raise DecodeError(source, where, f"unreadable dataflow reference {reference!r}")
    return match.group(1).lower()


def iso_last_update(stamp: str, source: str, where: str) -> str:
    """Eurostat's dd/mm/yy HH:MM:SS stamp as ISO 8601."""
    iso = iso_stamp(stamp)
    if iso is not None:
        return iso
    raise DecodeError(source, where, f"unreadable LAST UPDATE {stamp!r} (expected dd/mm/yy HH:MM:SS)")


@dataclass
class Layout:
    """Which column holds what, read from the header."""

    header: list[str]
    reference: int                      # STRUCTURE_ID or DATAFLOW
    last_update: int | None
    dimensions: dict[str, int]          # dimension id -> column
    title_of: dict[int, int]            # label column -> the code column it names
    period: int
    value: int
    flag: int | None
    conf: int | None


def read_layout(header: list[str], source: str) -> Layout:
    """Recognise SDMX-CSV 2.0 or 1.0 from the header and locate every column."""
    names = [h.strip() for h in header]
    if names[:2] == ["STRUCTURE", "STRUCTURE_ID"]:
        reference = 1
    elif names[:1] == ["DATAFLOW"]:
        reference = 0
    else:
        raise DecodeError(source, "line 1", f"not SDMX-CSV: header starts {names[:3]}")
    for required in ("TIME_PERIOD", "OBS_VALUE"):
        if required not in names:
            raise DecodeError(source, "line 1", f"header has no {required} column")
    if len(set(names)) != len(names):
        raise DecodeError(source, "line 1", "header repeats a column name")
    titles = codelists.dimension_ids()
    dimensions, title_of = {}, {}
    for col, name in enumerate(names):
        if name in METADATA_COLUMNS or name in MEASURE_COLUMNS or name in MEASURE_TITLES:
            continue
        if name in titles and col > 0 and names[col - 1] == titles[name]:
            title_of[col] = col - 1         # a 'Time frequency' column after 'freq'
        elif CODE.match(name):
            dimensions[name] = col
        else:
            raise DecodeError(source, f"line 1, column {col + 1}", f"unexpected column {name!r}")
    if "geo" not in dimensions:
        raise DecodeError(source, "line 1", "header has no geo column")
    index = {name: col for col, name in enumerate(names)}
    return Layout(
        header=names, reference=reference, last_update=index.get("LAST UPDATE"), dimensions=dimensions,
        title_of=title_of, period=index["TIME_PERIOD"], value=index["OBS_VALUE"],
        flag=index.get("OBS_FLAG"), conf=index.get("CONF_STATUS"),
    )


def uses_labels(layout: Layout, first: list[str], source: str) -> bool:
    """True for a label export, decided by the first freq cell ('Annual' vs 'A'), else by geo."""
    for dimension in ("freq", "geo"):
        if dimension not in layout.dimensions:
            continue
        cell = codelists.normalise_label(first[layout.dimensions[dimension]])
        if cell in codelists.codelist(dimension):
            return False
        if codelists.code_for_label(dimension, cell) is not None:
            return True
        if dimension == "freq" or not CODE.match(cell):
            raise DecodeError(source, f"line 2, column {dimension}",
                              f"{cell!r} is neither a {dimension} code nor a known {dimension} label")
    return False


class CodeReader:
    """Turns a dimension cell into its code, remembering (dimension, code, label) pairs seen."""

    def __init__(self, source: str, labelled: bool):
        self.source, self.labelled = source, labelled
        self.labels: dict[tuple[str, str], str] = {}
        self.read: dict[tuple[str, str], str] = {}     # (dimension, cell) -> code, for cells met before

    def code(self, dimension: str, cell: str, where: str) -> str:
        """The code a cell stands for; an unknown label or a non-code cell is refused."""
        # a file repeats a handful of distinct cells per dimension thousands of times; map each once
        code = self.read.get((dimension, cell))
        if code is None:
            code = self.read[(dimension, cell)] = self.map_cell(dimension, cell, where)
        return code

    def map_cell(self, dimension: str, cell: str, where: str) -> str:
        """code() for a cell not met before."""
        text = codelists.normalise_label(cell)
        if not text:
            raise DecodeError(self.source, where, f"empty {dimension}")
        if not self.labelled:
            if not CODE.match(text):
                raise DecodeError(self.source, where, f"{text!r} is not a {dimension} code")
            return text
        try:
            code = codelists.code_for_label(dimension, text)
        except codelists.CodelistError as err:
            raise DecodeError(self.source, where, f"label {text!r}: {err}") from None
        if code is None:
            raise DecodeError(
                self.source, where,
                f"unknown {dimension} label {text!r}: add it with its official Eurostat code to "
                f"etl/codelists/{dimension}.csv",
            )
        self.labels.setdefault((dimension, code), text)
        return code


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode one SDMX-CSV file into tidy observations (see the module docstring)."""
    with paused_gc():
        return decode_rows(raw, source, dataset)


def decode_rows(raw: bytes, source: str, dataset: str | None) -> Decoded:
    """decode(), with the garbage collector paused by the caller."""
    rows = [row for row in csv.reader(io.StringIO(text_of(raw, source), newline="")) if row]
    layout = read_layout(rows[0], source)
    body = rows[1:]
    if not body:
        raise DecodeError(source, "line 2", "no observations after the header")
    reader = CodeReader(source, uses_labels(layout, body[0], source))
    records, seen, references, stamps = [], {}, set(), {}
    for line_no, row in enumerate(body, start=2):
        if len(row) != len(layout.header):
            raise DecodeError(source, f"line {line_no}", f"{len(row)} cells, the header has {len(layout.header)}")
        references.add(row[layout.reference].strip())
        # every line repeats the stamp; strptime once per distinct stamp (it was a quarter of the time)
        if layout.last_update is not None and row[layout.last_update] not in stamps:
            stamp = row[layout.last_update]
            stamps[stamp] = iso_last_update(stamp, source, f"line {line_no}, column LAST UPDATE")
        record = read_row(row, line_no, layout, reader)
        if record is None:
            continue
        # conf_status describes the cell, it does not identify it
        series = tuple(sorted((k, v) for k, v in record["dims"].items() if k != "conf_status"))
        key = (record["geo"], record["period"], record["unit"], series)
        if key in seen:
            raise DecodeError(source, f"line {line_no}", f"duplicated observation (first at line {seen[key]})")
        seen[key] = line_no
        for col, code_col in layout.title_of.items():
            dimension = layout.header[code_col]
            reader.labels.setdefault((dimension, record_code(record, dimension)), codelists.normalise_label(row[col]))
        records.append(record)
    code = file_dataset(references, source, dataset)
    frame = observations_frame(records, code)
    labels = [(dim, c, label) for (dim, c), label in sorted(reader.labels.items())]
    stamps = set(stamps.values())
    return Decoded(dataset=code, observations=frame, source_updated=max(stamps) if stamps else None,
                   labels=labels, warnings=[] if len(stamps) <= 1 else [f"{len(stamps)} LAST UPDATE stamps; kept the latest"])


def record_code(record: dict, dimension: str) -> str:
    """The code a decoded record holds for one dimension."""
    if dimension in ("geo", "unit"):
        return record[dimension]
    return record["dims"][dimension]


def read_row(row: list[str], line_no: int, layout: Layout, reader: CodeReader) -> dict | None:
    """One body line as a record, or None when it carries neither value, flag nor confidentiality."""
    source = reader.source
    where = f"line {line_no}"
    value = parse_number(row[layout.value], source, f"{where}, column OBS_VALUE")
    flags = parse_flag(row[layout.flag] if layout.flag is not None else None, source, f"{where}, column OBS_FLAG")
    conf = row[layout.conf].strip() if layout.conf is not None else ""
    if conf and conf not in CONF_STATUS_CODES:
        raise DecodeError(source, f"{where}, column CONF_STATUS", f"unknown confidentiality status {conf!r}")
    if conf and conf != "F":
        flags = with_confidential(flags)
    if math.isnan(value) and flags is None:
        return None
    period = row[layout.period].strip()
    if not period:
        raise DecodeError(source, f"{where}, column TIME_PERIOD", "empty period")
    codes = {dim: reader.code(dim, row[col], f"{where}, column {dim}") for dim, col in layout.dimensions.items()}
    dims = {dim: code for dim, code in codes.items() if dim not in ("geo", "unit")}
    if conf:
        dims["conf_status"] = conf
    return {"geo": codes["geo"], "period": period, "unit": codes.get("unit"), "dims": dims,
            "value": value, "flags": flags}


def file_dataset(references: set[str], source: str, expected: str | None) -> str:
    """The one dataset a file holds; several, or one other than expected, is refused."""
    codes = {dataset_code(ref, source, "column STRUCTURE_ID/DATAFLOW") for ref in references}
    if len(codes) != 1:
        raise DecodeError(source, "column STRUCTURE_ID/DATAFLOW", f"several datasets in one file: {sorted(codes)}")
    (code,) = codes
    if expected is not None and expected.lower() != code:
        raise DecodeError(source, "column STRUCTURE_ID/DATAFLOW", f"holds {code!r}, expected {expected.lower()!r}")
    return code


def sniff(path) -> str | None:
    """None for a CSV whose header starts with STRUCTURE or DATAFLOW, else why it is not SDMX-CSV."""
    names = [h.strip() for h in next(csv.reader([first_line(path)]), [])]
    if names and names[0].upper() in {"STRUCTURE", "DATAFLOW"}:
        return None
    return f"SDMX-CSV (header {names[:6]} does not start with STRUCTURE or DATAFLOW)"


def updated(body: bytes) -> str | None:
    """The LAST UPDATE column of a Data Browser SDMX-CSV ('12/12/24 11:00:00'), as ISO 8601; else None."""
    reader = csv.reader(io.StringIO(body[:65536].decode("utf-8-sig", "replace")))
    header = next(reader, [])
    if "LAST UPDATE" not in header:
        return None
    row = next(reader, None)
    if not row or len(row) <= header.index("LAST UPDATE"):
        return None
    return iso_stamp(row[header.index("LAST UPDATE")])


FORMAT = Format("sdmx_csv", (".csv", ".csv.gz"), "text/csv", decode, sniff=sniff, updated=updated)
