"""The one tidy observation schema, shared by every source format, and its checks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# One row per published cell that carries a value or a flag; a bare ':' is no row.
OBSERVATION_SCHEMA = pa.schema(
    [
        pa.field("dataset", pa.string(), nullable=False),      # Eurostat code, lower case; 'desi' for the DESI export
        pa.field("indicator", pa.string()),                    # catalogue id; NULL when the catalogue does not name the series
        pa.field("geo", pa.string(), nullable=False),          # Eurostat geo code (EU27_2020, DE, EL, ...)
        pa.field("period", pa.string(), nullable=False),       # as published: '2023', '2023-Q1', ...
        pa.field("year", pa.int16()),                          # calendar year of the period
        pa.field("unit", pa.string()),                         # unit code (PC_HH, PC_ENT, ...)
        pa.field("dims", pa.map_(pa.string(), pa.string())),   # every other dimension code of the series
        pa.field("value", pa.float64()),                       # NULL when not available
        pa.field("flags", pa.string()),                        # exactly as published ('b', 'bu', 'e', ...); NULL when none
        pa.field("source_updated", pa.string()),               # the source's own last-update stamp, ISO 8601
        pa.field("retrieved_at", pa.timestamp("s", tz="UTC")), # when the raw file was downloaded
        pa.field("source_file", pa.string()),                  # raw file name the row came from
    ]
)
OBSERVATION_COLUMNS = OBSERVATION_SCHEMA.names

# Columns a format decoder must produce; the rest are added by `finalize`.
DECODED_COLUMNS = ["dataset", "geo", "period", "unit", "dims", "value", "flags"]   # text as str or categorical

# Eurostat status/flag letters (https://ec.europa.eu/eurostat/data/database/information)
FLAG_MEANINGS: dict[str, str] = {
    "b": "break in time series",
    "c": "confidential",
    "d": "definition differs (see metadata)",
    "e": "estimated",
    "f": "forecast",
    "n": "not significant",
    "p": "provisional",
    "r": "revised",
    "s": "Eurostat estimate",
    "u": "low reliability",
    "z": "not applicable",
    "m": "missing",
    "i": "see metadata",
    "x": "aggregate not available",
}
FLAG_PATTERN = re.compile(r"^[a-z]+$")


class DecodeError(ValueError):
    """A source file that cannot be trusted; the message names the file and the place."""

    def __init__(self, source: str, where: str, reason: str):
        self.source, self.where, self.reason = source, where, reason
        super().__init__(f"{source}: {where}: {reason}")


@dataclass
class Decoded:
    """What a format decoder returns for one raw file."""

    dataset: str
    observations: pd.DataFrame                              # DECODED_COLUMNS
    source_updated: str | None = None                       # ISO 8601 when the source states it
    labels: list[tuple[str, str, str]] = field(default_factory=list)  # (dimension, code, label)
    warnings: list[str] = field(default_factory=list)


def flag_problem(flag: str, published: str | None = None) -> str | None:
    """None for a flag string made of known Eurostat letters ('b', 'bu'), else what is wrong with it.

    The one flag rule of every decoder; `published` is the text to quote when it is not the flag itself.
    """
    if FLAG_PATTERN.match(flag) and set(flag) <= FLAG_MEANINGS.keys():
        return None
    return f"unknown flag {flag if published is None else published!r} (known: {''.join(sorted(FLAG_MEANINGS))})"


def check_flags(flags: pd.Series, source: str) -> None:
    """Refuse flag strings that are not combinations of known Eurostat letters."""
    for flag in flags.dropna().unique():
        reason = flag_problem(str(flag))
        if reason:
            raise DecodeError(source, "flags", reason)


def check_unique(obs: pd.DataFrame, source: str) -> None:
    """Refuse a file that publishes the same observation twice."""
    key = obs[["dataset", "geo", "period", "unit"]].astype(str)
    key = key.assign(dims=obs["dims"].map(lambda d: tuple(sorted(d.items())) if d else ()))
    dup = key.duplicated(keep=False)
    if dup.any():
        first = key[dup].iloc[0]
        raise DecodeError(
            source, f"observation geo={first.geo} period={first.period} dims={dict(first.dims)}",
            f"duplicated observation ({int(dup.sum())} rows)",
        )


DIMS_TYPE = pa.map_(pa.string(), pa.string())


def dims_array(dims: pd.Series) -> pa.Array:
    """The dims column as an Arrow MAP: each distinct dict object built once, then taken for its rows (the decoders
    share one dict among the rows of a series, so a file has as many as it has series)."""
    rows = dims.to_numpy(dtype=object)
    # every dict is alive while `rows` holds it, so its id names it
    codes, _ = pd.factorize(np.fromiter(map(id, rows), dtype=np.int64, count=len(rows)))
    first = pd.Series(codes).drop_duplicates().index.to_numpy()    # where each object is first met, in code order
    distinct = pa.array([list(d.items()) if d else [] for d in rows[first]], type=DIMS_TYPE)
    return distinct.take(pa.array(codes))


def text_array(column: pd.Series, *, nullable: bool = False) -> pa.Array:
    """A decoded text column as an Arrow string array: a categorical is decoded by Arrow from its categories;
    any other column is read as str (NULL kept only where `nullable`)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.array.codes
        categories = pa.array(np.asarray(column.array.categories, dtype=object), pa.string())
        return categories.take(pa.array(codes, mask=codes < 0))
    return pa.array(column if nullable else column.astype(str), type=pa.string(), from_pandas=True)


def year_array(period: pa.Array) -> pa.Array:
    """Calendar year of each published period as int16; NULL where the first four characters are not digits."""
    head = pc.utf8_slice_codeunits(period, 0, 4)
    digits = pc.match_substring_regex(head, r"^[0-9]{4}$")
    return pc.cast(pc.if_else(digits, head, pa.scalar(None, pa.string())), pa.int16())


def finalize(decoded: Decoded, *, retrieved_at: pd.Timestamp, source_file: str) -> pa.Table:
    """Validate a decoded frame and return it as a pyarrow table in OBSERVATION_SCHEMA."""
    obs = decoded.observations
    missing = [c for c in DECODED_COLUMNS if c not in obs.columns]
    assert not missing, f"{source_file}: decoder left out columns {missing}"
    empty = obs["value"].isna() & obs["flags"].isna()
    assert not empty.any(), f"{source_file}: {int(empty.sum())} rows with neither value nor flag"
    check_flags(obs["flags"], source_file)
    n = len(obs)
    period = text_array(obs["period"])
    frame = {
        "dataset": text_array(obs["dataset"]),
        "indicator": pa.nulls(n, pa.string()),
        "geo": text_array(obs["geo"]),
        "period": period,
        "year": year_array(period),
        "unit": text_array(obs["unit"], nullable=True),
        "dims": dims_array(obs["dims"]),
        "value": pa.array(obs["value"], type=pa.float64(), from_pandas=True),
        "flags": pa.array(obs["flags"], type=pa.string(), from_pandas=True),
        # Constant per file: repeated scalars, not Python lists of n objects.
        "source_updated": pa.repeat(pa.scalar(decoded.source_updated, pa.string()), n),
        "retrieved_at": pa.repeat(pa.scalar(retrieved_at.to_pydatetime(), pa.timestamp("s", tz="UTC")), n),
        "source_file": pa.repeat(pa.scalar(source_file, pa.string()), n),
    }
    return pa.table(frame, schema=OBSERVATION_SCHEMA)
