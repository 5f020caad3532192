"""Checks a dataset's observations pass before anything is published: shape, one value per cell, unit ranges, loss."""
from __future__ import annotations

import fnmatch

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.catalogue import Catalogue

# The one table of what a unit allows: (unit code pattern, lowest, highest); None is unbounded.
# Shares of individuals, households, enterprises, ... are percentages; counts are never negative.
UNIT_RANGES: tuple[tuple[str, float | None, float | None], ...] = (
    ("PC", 0.0, 100.0),
    ("PC_*", 0.0, 100.0),
    # DESI 2022 workbook: the digital-intensity sub-dimension score is normalised against fixed bounds and
    # published below 0 where a country lies under the lower bound (RO, BG 2017-2020)
    ("pc_desi_idt", None, 100.0),
    ("pc_*", 0.0, 100.0),          # the DESI export's shares (published as 0-1)
    ("egov_score", 0.0, 100.0),
    ("THS_PER", 0.0, None),
    ("NR", 0.0, None),
    ("subs_per_100_pop", 0.0, None),
)
SHOWN = 5  # cells or categories named in a message before "..."


class CheckFailed(ValueError):
    """A dataset refused by a check; names the file (when one) and what is wrong."""

    def __init__(self, reason: str, file: str | None = None):
        self.reason, self.file = reason, file
        super().__init__(reason)


def unit_range(unit: str | None) -> tuple[float | None, float | None] | None:
    """(lowest, highest) a unit allows, from UNIT_RANGES; None when the table has no rule for it."""
    if unit is None:
        return None
    for pattern, low, high in UNIT_RANGES:
        if fnmatch.fnmatchcase(unit, pattern):
            return low, high
    return None


def listed(items: list, limit: int = SHOWN) -> str:
    """Items joined with ', ', cut after `limit` with the count of the rest."""
    shown = ", ".join(str(item) for item in items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


# ---------------------------------------------------------------- shape

def shape(table: pa.Table) -> dict[str, dict[str, list[str]]]:
    """Per source file: every dimension (the unit column and each dims key) and its distinct categories."""
    out: dict[str, dict[str, list[str]]] = {}
    if not table.num_rows:
        return out
    dims = table.column("dims").combine_chunks()
    offsets = dims.offsets.to_numpy()
    parents = pa.array(np.repeat(np.arange(table.num_rows), np.diff(offsets)))
    files = table.column("source_file").combine_chunks()
    entries = pa.table({"file": pc.take(files, parents), "dimension": dims.keys, "code": dims.items})
    units = pa.table({"file": files, "dimension": pa.repeat(pa.scalar("unit"), table.num_rows).cast(pa.string()),
                      "code": table.column("unit").combine_chunks()})
    units = units.filter(pc.is_valid(units["code"]))
    grouped = pa.concat_tables([entries, units]).group_by(["file", "dimension"]).aggregate([("code", "distinct")])
    for row in grouped.to_pylist():
        out.setdefault(row["file"], {})[row["dimension"]] = sorted(c for c in row["code_distinct"] if c is not None)
    for name in files.unique().to_pylist():
        out.setdefault(name, {})
    return out


def learnt_shape(found: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, int]]:
    """What the manifest keeps of a good load's shape: per file, each dimension's number of categories."""
    return {name: {dim: len(codes) for dim, codes in dims.items()} for name, dims in found.items()}


def check_shape(dataset: str, found: dict[str, dict[str, list[str]]], learnt: dict[str, dict[str, int]] | None,
                catalogue: Catalogue) -> None:
    """Refuse a body lacking an expected dimension, or holding an unexpected one with more than one category.

    Expected: what the same file had in the last good load; before any load, the dimensions the
    dataset's indicators select on (a file of the dataset can not do without them).
    """
    selected = {key for item in catalogue.indicators_of(dataset) for key in item.selection}
    for name, dims in sorted(found.items()):
        before = (learnt or {}).get(name)
        expected = set(before) if before is not None else selected
        missing = sorted(expected - set(dims))
        if missing:
            raise CheckFailed(f"shape: expected dimension {listed(missing)} is missing from the body "
                              f"(it has {listed(sorted(dims), 20)})", name)
        if before is None:
            continue
        for dim in sorted(set(dims) - expected):
            if len(dims[dim]) > 1:
                raise CheckFailed(f"shape: unexpected dimension {dim} with {len(dims[dim])} categories "
                                  f"({listed(dims[dim])}); the last good load had {listed(sorted(before), 20)}",
                                  name)


# ---------------------------------------------------------------- one value per cell, unit ranges

def cell(row: dict) -> str:
    """One observation as a message names it."""
    dims = ",".join(f"{k}={v}" for k, v in sorted(dict(row["dims"] or []).items()))
    flags = f" [{row['flags']}]" if row.get("flags") else ""
    return f"{row['geo']} {row['period']} unit={row['unit']} {dims} = {row['value']}{flags}"


def check_one_value_per_cell(dataset: str, table: pa.Table, catalogue: Catalogue) -> None:
    """Each file gives an indicator at most one value per country and period (an aggregate: `parts` values)."""
    if not table.num_rows:
        return
    keys = ["source_file", "indicator", "geo", "period"]
    counts = table.select(keys).filter(pc.is_valid(table["indicator"])).group_by(keys).aggregate([("geo", "count")])
    allowed = {item.id: item.parts or 1 for item in catalogue.indicators_of(dataset)}
    limit = pa.array([allowed.get(i, 1) for i in counts["indicator"].to_pylist()], pa.int64())
    over = counts.filter(pc.greater(counts["geo_count"], limit))
    if not over.num_rows:
        return
    first = over.slice(0, 1).to_pylist()[0]
    same = pc.and_(pc.and_(pc.equal(table["source_file"], first["source_file"]),
                           pc.equal(table["indicator"], first["indicator"])),
                   pc.and_(pc.equal(table["geo"], first["geo"]), pc.equal(table["period"], first["period"])))
    rows = table.filter(same).to_pylist()
    raise CheckFailed(f"one value per cell: indicator {first['indicator']} has {len(rows)} values for "
                      f"{first['geo']} {first['period']}: {listed([cell(r) for r in rows], 2)} "
                      f"({over.num_rows} cells affected)", first["source_file"])


def check_unit_ranges(dataset: str, table: pa.Table) -> None:
    """Refuse values outside what their unit allows (UNIT_RANGES), naming the cells."""
    for unit in table.column("unit").unique().to_pylist():
        bounds = unit_range(unit)
        if bounds is None:
            continue
        low, high = bounds
        values = table["value"]
        bad = pc.less(values, low) if low is not None else pa.repeat(pa.scalar(False), table.num_rows)
        if high is not None:
            bad = pc.or_(bad, pc.greater(values, high))
        rows = table.filter(pc.and_(pc.fill_null(pc.equal(table["unit"], unit), False), pc.fill_null(bad, False)))
        if rows.num_rows:
            allowed = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
            records = rows.to_pylist()
            raise CheckFailed(f"unit range: {rows.num_rows} values of unit {unit} outside {allowed}: "
                              f"{listed([cell(r) + ' (' + r['source_file'] + ')' for r in records])}",
                              records[0]["source_file"])


# ---------------------------------------------------------------- loss against the published set

def loss(before: dict | None, rows: int, indicator_rows: dict[str, int], max_share: float) -> list[str]:
    """What a dataset would lose against its published manifest entry: [] when within bounds."""
    if not before:
        return []
    lost = []
    gone = sorted(i for i, n in before["indicator_rows"].items() if n > 0 and indicator_rows.get(i, 0) == 0)
    lost += [f"indicator {i} entirely ({before['indicator_rows'][i]} cells)" for i in gone]
    if before["rows"] and (before["rows"] - rows) / before["rows"] > max_share:
        fewer = sorted((i, n, indicator_rows.get(i, 0)) for i, n in before["indicator_rows"].items()
                       if indicator_rows.get(i, 0) < n and i not in gone)
        lost.append(f"{before['rows'] - rows} of {before['rows']} cells "
                    f"({(before['rows'] - rows) / before['rows']:.1%}, more than {max_share:.0%})"
                    + (f"; indicators {listed([f'{i} {n} -> {m}' for i, n, m in fewer])}" if fewer else ""))
    return lost
