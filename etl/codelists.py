"""Eurostat code lists (code <-> label) read from etl/codelists/<dimension>.csv, loaded lazily.

Each CSV has the columns `dimension,code,label` (geo.csv adds `is_aggregate,iso3`; the country groups, such as
the EU27 members and the BSR peers, live in etl/catalogue.toml [groups], not here).
A code may appear on several rows when Eurostat has published it under several labels over time
(e.g. TR 'Türkiye' and 'Turkey', EA with and without the list of enlargements): the FIRST row holds
the current label, later rows are aliases that still map back to the code. A label must never map
to two codes of one dimension; that is refused when the list is loaded.

Where the codes come from:
- the labels carried by the recorded JSON-stat answers (geo, size_emp, nace_r2, indic_is E_DI*,
  H_COMP, hhtyp A1/A1_DCH/A2, unit PC_ENT/PC_HH, freq A, and the dimension names);
- Eurostat's published code lists (geo country codes with EL/UK/XK, EU/EA aggregates, freq, ind_type,
  indic_is I_DSK2_*, I_BUY3/I_B3_12/I_BLT12/I_BUMT12/I_BUMT12X, E_AESELL, unit PC_IND/PC_IND_IU3,
  inet_tec, terrtypo TOTAL, hhtyp).
- Provisional codes: four labels of the recorded label exports have no official code we could
  confirm (inet_tec 'Broadband' and 'Very high-speed digital subscriber line 2 vectoring (VDSL2)' in
  isoc_cbt; ind_type 'Individuals living in a household with children' / '... without children' in
  isoc_ec_ibuy/ib20). Rather than a plausible-looking guess, they carry codes that start with
  UNCONFIRMED_ (see provisional_codes()), so the files decode and anyone reading the data sees the
  code is ours, not Eurostat's. Replace them with the official codes once confirmed.
Any other label the code lists do not know makes the decoders fail loudly instead of guessing.

`dimension.csv` maps Eurostat's dimension titles ('Individual type') to dimension ids ('ind_type').
"""
from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

import pandas as pd

CODELIST_DIR = Path(__file__).resolve().parent / "codelists"
PROVISIONAL_PREFIX = "UNCONFIRMED_"       # our stand-in for an official code not yet confirmed
GEO_FLAG_COLUMNS = ("is_aggregate",)
# the EU aggregates a source's bare 'EU' may mean: the 27 Member States since 2020, the 28 before the UK left
EU27, EU28 = "EU27_2020", "EU28"
_SPACES = re.compile(r"\s+")


class CodelistError(ValueError):
    """A code list file that is missing or contradicts itself."""


def normalise_label(label: str) -> str:
    """A label with runs of whitespace collapsed and the ends trimmed (how labels are compared)."""
    return _SPACES.sub(" ", str(label)).strip()


def available_dimensions() -> list[str]:
    """Dimension ids that have a code list file."""
    return sorted(p.stem for p in CODELIST_DIR.glob("*.csv"))


@functools.cache
def _rows(dimension: str) -> tuple[dict[str, str], ...]:
    """The rows of one code list file, checked for shape."""
    path = CODELIST_DIR / f"{dimension}.csv"
    if not path.is_file():
        raise CodelistError(f"no code list for dimension {dimension!r} (looked for {path})")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        if header[:3] != ["dimension", "code", "label"]:
            raise CodelistError(f"{path.name}: header {header} must start with dimension,code,label")
        rows = []
        for line_no, row in enumerate(reader, start=2):
            if None in row or any(v is None for v in row.values()):
                raise CodelistError(f"{path.name}: line {line_no}: wrong number of columns")
            if row["dimension"] != dimension:
                raise CodelistError(f"{path.name}: line {line_no}: dimension {row['dimension']!r} != {dimension!r}")
            if not row["code"].strip() or not normalise_label(row["label"]):
                raise CodelistError(f"{path.name}: line {line_no}: empty code or label")
            rows.append(row)
    return tuple(rows)


@functools.cache
def codelist(dimension: str) -> dict[str, str]:
    """Code -> current label for one dimension (the first row of a code wins)."""
    labels: dict[str, str] = {}
    for row in _rows(dimension):
        labels.setdefault(row["code"], normalise_label(row["label"]))
    return labels


@functools.cache
def label_to_code(dimension: str) -> dict[str, str]:
    """Label (whitespace-normalised) -> code; a label naming two codes is refused."""
    codes: dict[str, str] = {}
    for row in _rows(dimension):
        label = normalise_label(row["label"])
        known = codes.get(label)
        if known is not None and known != row["code"]:
            raise CodelistError(f"{dimension}.csv: label {label!r} maps to both {known!r} and {row['code']!r}")
        codes[label] = row["code"]
    return codes


def provisional_codes(dimension: str) -> dict[str, str]:
    """Code -> label of the provisional (UNCONFIRMED_) codes of one dimension."""
    return {code: label for code, label in codelist(dimension).items() if code.startswith(PROVISIONAL_PREFIX)}


def code_for_label(dimension: str, label: str) -> str | None:
    """The code of one label, or None when the code list does not know it."""
    return label_to_code(dimension).get(normalise_label(label))


@functools.cache
def dimension_ids() -> dict[str, str]:
    """Eurostat dimension title ('Individual type') -> dimension id ('ind_type')."""
    return label_to_code("dimension")


@functools.cache
def _geo_frame() -> pd.DataFrame:
    """geo.csv as a frame, one row per code (current label), flags as booleans."""
    rows = _rows("geo")
    missing = [c for c in (*GEO_FLAG_COLUMNS, "iso3") if c not in rows[0]]
    if missing:
        raise CodelistError(f"geo.csv: missing columns {missing}")
    frame = pd.DataFrame(rows).drop_duplicates("code", keep="first")
    for column in GEO_FLAG_COLUMNS:
        bad = ~frame[column].isin(["0", "1"])
        if bad.any():
            raise CodelistError(f"geo.csv: {column} must be 0 or 1, got {frame.loc[bad, column].iloc[0]!r}")
        frame[column] = frame[column] == "1"
    frame = frame.assign(name=frame["label"].map(normalise_label), iso3=frame["iso3"].replace("", None))
    return frame[["code", "name", *GEO_FLAG_COLUMNS, "iso3"]].reset_index(drop=True)


def geo_table() -> pd.DataFrame:
    """Geo codes with name, is_aggregate and iso3 (None for aggregates); a fresh copy."""
    return _geo_frame().copy()


def reload() -> None:
    """Forget every loaded list, so edited CSVs (or a changed CODELIST_DIR) are read again."""
    for cached in (_rows, codelist, label_to_code, dimension_ids, _geo_frame):
        cached.cache_clear()
