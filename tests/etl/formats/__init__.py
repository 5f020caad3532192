"""Shared helpers for the JSON-stat and TSV decoder tests: the recordings, and independent stdlib readings."""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
JSONSTAT_DIR = SHARED_DATA / "eurostat" / "jsonstat"
TSV_DIR = SHARED_DATA / "eurostat" / "tsv"
SYNTHETIC_DIR = Path(__file__).resolve().parent / "synthetic"


def recorded(folder: Path, pattern: str) -> list[Path]:
    """The recorded files of one folder (empty when the shared data is absent, so tests skip)."""
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def shared_file(folder: Path, name: str) -> Path:
    """One recorded file, or skip when the shared data folder is not on this machine."""
    path = folder / name
    if not path.is_file():
        pytest.skip(f"recorded file {path} is not present")
    return path


def observation_key(geo, period, unit, dims: dict) -> tuple:
    """A hashable observation identity shared by decoded rows and the independent readings."""
    return (geo, period, unit, tuple(sorted(dims.items())))


def decoded_cells(obs) -> dict[tuple, tuple]:
    """Decoded rows as key -> (value or None, flags or None); asserts no key appears twice."""
    cells = {}
    for geo, period, unit, dims, value, flags in zip(obs["geo"], obs["period"], obs["unit"], obs["dims"],
                                                      obs["value"], obs["flags"]):
        unit = None if unit is None or (isinstance(unit, float) and math.isnan(unit)) else unit
        key = observation_key(geo, period, unit, dims)
        assert key not in cells, f"decoded the observation {key} twice"
        cells[key] = (None if math.isnan(value) else value, flags)
    return cells


# ---------------------------------------------------------------- JSON-stat, read with json only

def load_json(path: Path) -> dict:
    """A recorded JSON-stat body, gunzipped when gzip."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def positions(category: dict) -> list[str]:
    """Category codes in position order, from an index dict or list."""
    index = category["index"]
    if isinstance(index, list):
        return list(index)
    return [code for code, _ in sorted(index.items(), key=lambda item: item[1])]


def strides(sizes: list[int]) -> list[int]:
    """Row-major strides: the last dimension varies fastest."""
    out, step = [], 1
    for size in reversed(sizes):
        out.append(step)
        step *= size
    return out[::-1]


def flat_index(doc: dict, **codes: str) -> int:
    """The flat cell index of the cell with the given code in every dimension."""
    index = 0
    for dim, stride in zip(doc["id"], strides(doc["size"])):
        index += positions(doc["dimension"][dim]["category"]).index(codes[dim]) * stride
    return index


def as_cells(field, total: int) -> dict[int, object]:
    """A value/status field (dict or list) as flat index -> item, dropping null and empty items."""
    if field is None:
        return {}
    if isinstance(field, str):
        field = [field] * total
    items = field.items() if isinstance(field, dict) else enumerate(field)
    return {int(k): v for k, v in items if v is not None and v != ""}


def independent_jsonstat(doc: dict) -> dict[tuple, tuple]:
    """Every cell with a value or status -> (value, flags), by plain index arithmetic.

    Status 'x|C' follows the documented choice: flags 'x' plus 'c' when the confidentiality status is
    not F, and the status kept in dims as conf_status.
    """
    ids, sizes = doc["id"], doc["size"]
    total = math.prod(sizes)
    codes = {dim: positions(doc["dimension"][dim]["category"]) for dim in ids}
    values, statuses = as_cells(doc["value"], total), as_cells(doc.get("status"), total)
    cells = {}
    for index in set(values) | set(statuses):
        coords, rest = {}, index
        for dim, stride in zip(ids, strides(sizes)):
            coords[dim], rest = codes[dim][rest // stride], rest % stride
        flags, _, conf = statuses.get(index, "").partition("|")
        dims = {d: c for d, c in coords.items() if d not in ("geo", "time", "unit")}
        if conf:
            dims["conf_status"] = conf
            if conf != "F" and "c" not in flags:
                flags += "c"
        value = values.get(index)
        cells[observation_key(coords["geo"], coords["time"], coords.get("unit"), dims)] = (
            None if value is None else float(value), flags or None)
    return cells


# ---------------------------------------------------------------- TSV, read with str.split only

def independent_tsv(path: Path) -> dict[tuple, tuple]:
    """Every TSV cell that is not a bare ':' -> (value, flags), read line by line."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    lines = [line for line in raw.decode("utf-8").splitlines() if line.strip()]
    head = lines[0].split("\t")
    dims = [d.strip() for d in head[0].split("\\")[0].split(",")]
    periods = [p.strip() for p in head[1:]]
    cells = {}
    for line in lines[1:]:
        parts = line.split("\t")
        codes = dict(zip(dims, (c.strip() for c in parts[0].split(","))))
        other = {d: c for d, c in codes.items() if d not in ("geo", "unit")}
        for period, cell in zip(periods, parts[1:]):
            words = cell.split()
            if words == [":"]:
                continue
            value = None if words[0] == ":" else float(words[0])
            flags = words[1] if len(words) > 1 else None
            key = observation_key(codes["geo"], period, codes.get("unit"), other)
            assert key not in cells, f"{path.name}: the independent reading met {key} twice"
            cells[key] = (value, flags)
    return cells
