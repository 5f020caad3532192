"""Format decoders: one module per source format, each `decode(raw, source, *, dataset=None) -> etl.model.Decoded`.

Each module describes itself with a `FORMAT = Format(...)`; etl/formats/registry.py lists them, one line each.
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from etl.model import Decoded, DecodeError

DATASET_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
GZIP_MAGIC = b"\x1f\x8b"
# How Eurostat writes last-update stamps: day first, two- or four-digit year, with or without seconds.
STAMP_FORMATS = ("%d/%m/%y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d/%m/%y %H:%M", "%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class Format:
    """One source format: how a file of it is named, recognised, served and decoded."""

    name: str                                       # the catalogue's source_format and the raw store's `format`
    suffixes: tuple[str, ...]                       # file name endings, lower case (.json.gz before .json)
    content_type: str                               # the MIME type a recorded file of it is stored with
    decode: Callable[..., Decoded]                  # decode(raw, source, *, dataset=None) -> Decoded
    sniff: Callable[[Path], str | None] | None = None   # None when a file is this format, else why not
    updated: Callable[[bytes], str | None] | None = None  # the source's own stamp, when cheap to read
    live: tuple[str, ...] = ()                      # catalogue live_format names fetched in this format


def coded_column(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    """Text given as codes into a list of distinct strings: a categorical whose categories are sorted, so it sorts,
    compares and groups as the str column would, at a few bytes a row (each string is kept once)."""
    texts = np.array(categories, dtype=object)
    order = np.argsort(texts, kind="stable")
    # object categories: a str Index costs 2.5x as much to build (6 % of a small TSV's decode, paired)
    dtype = pd.CategoricalDtype(pd.Index(texts[order], dtype=object))
    if (order != np.arange(len(order))).any():
        rank = np.empty(len(order), dtype=codes.dtype)
        rank[order] = np.arange(len(order))
        codes = rank[codes]
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def iso_stamp(text: str) -> str | None:
    """A day-first Eurostat stamp ('12/12/24 11:00:00', '17/12/2024 11:00') as ISO 8601; None when unreadable."""
    for fmt in STAMP_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).isoformat()
        except ValueError:
            continue
    return None


def head_bytes(path: Path, size: int = 65536) -> bytes:
    """The first bytes of a (possibly gzip) file, as text bytes."""
    with path.open("rb") as handle:
        start = handle.read(size)
    if start[:2] == GZIP_MAGIC:
        with gzip.open(path, "rb") as handle:
            return handle.read(size)
    return start


def first_line(path: Path) -> str:
    """The first text line of a (possibly gzip) file, BOM stripped."""
    return head_bytes(path).split(b"\n", 1)[0].decode("utf-8-sig", "replace").strip()


def dataset_from_name(source: str, suffixes: tuple[str, ...]) -> str:
    """The dataset code a recorded file is named after (`isoc_e_dii.tsv.gz` -> `isoc_e_dii`); refuse anything else."""
    code = Path(source).name.lower()
    while code.endswith(suffixes):
        code = code.rsplit(".", 1)[0]
    return checked_code(code, source)


def checked_code(code: str, source: str) -> str:
    """A dataset code that looks like Eurostat's (lower-case letters, digits, underscores)."""
    if not DATASET_CODE.match(code):
        raise DecodeError(source, "dataset code", f"no usable dataset code (got {code!r}); pass dataset=")
    return code


def column_positions(header: list[str], required, source: str, kind: str, shown: int | None = None) -> dict[str, int]:
    """Column positions by (stripped) name; a header that lacks a required column is not `kind`, and one that
    repeats a name is refused (`shown`: how many names the message quotes, all when None)."""
    names = [h.strip() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise DecodeError(source, "line 1", f"not {kind}: header lacks {missing} (got {names[:shown]})")
    if len(set(names)) != len(names):
        raise DecodeError(source, "line 1", "header repeats a column name")
    return {name: col for col, name in enumerate(names)}
