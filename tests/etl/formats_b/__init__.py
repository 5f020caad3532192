"""Tests of the SDMX-CSV, Data Browser XLSX and DESI CSV decoders; shared helpers live here."""
from __future__ import annotations

import contextlib
import csv
import math
import shutil
from pathlib import Path

import pytest

from etl import codelists

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = REPO / ".." / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """A recorded file from ../shared/data; the test is skipped when the folder is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"recorded data not available: {path}")
    return path


def read_codelist_csv(directory: Path, dimension: str) -> dict[str, str]:
    """label -> code read straight from a code list CSV with the csv module (independent of etl.codelists)."""
    path = directory / f"{dimension}.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {" ".join(row["label"].split()): row["code"] for row in csv.DictReader(fh)}


@contextlib.contextmanager
def extended_codelists(tmp_path: Path, extra: dict[str, list[tuple[str, str]]]):
    """Use a copy of the shipped code lists with extra (code, label) rows, as an analyst would add them."""
    copy = tmp_path / "codelists"
    shutil.copytree(codelists.CODELIST_DIR, copy)
    for dimension, rows in extra.items():
        path = copy / f"{dimension}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            existing = list(csv.reader(fh))
        extras = {row[1]: row[3:] for row in reversed(existing[1:])}   # geo.csv: flags/iso3 of the same code
        with path.open("a", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            for code, label in rows:
                writer.writerow([dimension, code, label, *extras.get(code, [""] * (len(existing[0]) - 3))])
    shipped = codelists.CODELIST_DIR
    codelists.CODELIST_DIR = copy
    codelists.reload()
    try:
        yield copy
    finally:
        codelists.CODELIST_DIR = shipped
        codelists.reload()


def same_cell(decoded_value: float, decoded_flags, expected_value: float | None, expected_flags: str | None) -> bool:
    """(value, flags) equality where NaN/None both mean missing."""
    flags = None if decoded_flags is None or (isinstance(decoded_flags, float) and math.isnan(decoded_flags)) else decoded_flags
    if expected_value is None:
        return math.isnan(decoded_value) and flags == expected_flags
    return decoded_value == expected_value and flags == expected_flags
