"""JSON-stat 2.0 decoder: Eurostat Statistics API, SDMX 3.0 `format=JSON` and SDMX 2.1 `format=JSON` answers.

A JSON-stat dataset is a dense cube described by `id` (dimension names) and `size` (categories per
dimension); `value` and `status` hold the cells, either as a list over every flat index or as a dict
keyed by the stringified flat index (row-major: the last dimension varies fastest). Category `index`
is a dict code -> position or a list of codes in position order.

Rows: one per cell that carries a value or a status; a status without a value (confidential cells) is
a row with a NULL value. A null/absent value is missing, never 0.

Status (choice documented here, the same as etl.formats.sdmx_csv for CONF_STATUS): Eurostat's SDMX 2.1
JSON writes a status as `<observation flags>|<confidentiality status>` ('|C' = confidential, no flag).
The observation part is kept exactly as published; a confidentiality status other than F (free) appends
the flag letter 'c' (so code reading only `flags` sees the cell as confidential) and the status itself
is kept verbatim in dims as `conf_status`, so nothing published is lost. An unknown status is refused.

Dataset code: `extension.id` lower-cased, else the `dataset` argument, else the file name stem; when both
the file and the caller name a dataset they must agree. `source_updated` is `updated` as published.

`merge_parts` joins partial answers of one dataset (any format) into one Decoded, dropping identical
duplicates and refusing conflicting ones.
"""
from __future__ import annotations

import gzip
import json
import math
import zlib

import numpy as np
import orjson
import pandas as pd

from etl.formats import Format, checked_code, coded_column, dataset_from_name, head_bytes
from etl.model import DECODED_COLUMNS, Decoded, DecodeError, flag_problem

GZIP_MAGIC = b"\x1f\x8b"
# Dimensions with their own columns; every other one goes to `dims` (freq included).
OWN_COLUMNS = ("geo", "time", "unit")
# SDMX CL_CONF_STATUS: F is free for publication; every other status withholds the cell.
CONF_STATUS_CODES = {"F", "N", "C", "D", "S", "A", "O", "T", "G", "M"}
FILE_SUFFIXES = (".gz", ".json")
NoneType = type(None)
# what json.loads gives for a JSON number or null
NUMBER_TYPES = {int, float, NoneType}


# ---------------------------------------------------------------- reading the document

def unpacked(raw: bytes, source: str) -> bytes:
    """The body, gunzipped when it starts with the gzip magic bytes."""
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise DecodeError(source, "gzip stream", f"truncated or corrupt gzip: {err}") from None


def load_json(body: bytes):
    """The parsed JSON: orjson for strict JSON (twice as fast as the standard library on these bodies); anything it
    refuses is parsed again by the standard library, whose leniency (NaN, Infinity, huge integers) and messages
    (line, column, the first byte that is not UTF-8) this decoder keeps."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def read_document(raw: bytes, source: str) -> dict:
    """The parsed JSON-stat dataset object; refuses HTML pages, broken JSON and Eurostat error answers."""
    body = unpacked(raw, source)
    head = body[:512].lstrip().lower()
    if not head:
        raise DecodeError(source, "byte 0", "empty body")
    if head.startswith(b"<"):
        raise DecodeError(source, "byte 0", "an HTML/XML page, not JSON-stat (error page or login wall?)")
    try:
        doc = load_json(body)
    except UnicodeDecodeError as err:
        raise DecodeError(source, f"byte {err.start}", "not UTF-8 text") from None
    except json.JSONDecodeError as err:
        where = f"line {err.lineno} column {err.colno} (char {err.pos})"
        raise DecodeError(source, where, f"invalid or truncated JSON: {err.msg}") from None
    if not isinstance(doc, dict):
        raise DecodeError(source, "top level", f"expected a JSON object, got {type(doc).__name__}")
    if "error" in doc:
        raise DecodeError(source, "key 'error'", f"the server answered with an error: {json.dumps(doc['error'])[:300]}")
    if doc.get("class", "dataset") != "dataset":
        raise DecodeError(source, "key 'class'", f"expected a JSON-stat dataset, got class {doc.get('class')!r}")
    missing = [key for key in ("id", "size", "dimension", "value") if key not in doc]
    if missing:
        raise DecodeError(source, "top level", f"not a JSON-stat dataset: missing {', '.join(missing)}")
    return doc


def read_shape(doc: dict, source: str) -> tuple[list[str], list[int]]:
    """Dimension ids and sizes, checked against each other and against `dimension`."""
    ids, sizes = doc["id"], doc["size"]
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise DecodeError(source, "key 'id'", "expected a list of dimension names")
    if len(set(ids)) != len(ids):
        raise DecodeError(source, "key 'id'", f"repeated dimension names in {ids}")
    if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
        raise DecodeError(source, "key 'size'", "expected a list of non-negative integers")
    if len(ids) != len(sizes):
        raise DecodeError(source, "key 'size'", f"{len(sizes)} sizes for {len(ids)} dimensions {ids}")
    if not isinstance(doc["dimension"], dict):
        raise DecodeError(source, "key 'dimension'", "expected an object keyed by dimension name")
    absent = [i for i in ids if i not in doc["dimension"]]
    if absent:
        raise DecodeError(source, "key 'dimension'", f"no description of dimensions {absent}")
    for needed in ("geo", "time"):
        if needed not in ids:
            raise DecodeError(source, "key 'id'", f"no '{needed}' dimension in {ids}")
    return ids, sizes


def category_codes(doc: dict, dim: str, size: int, source: str) -> list[str]:
    """The category codes of one dimension in position order; their count must equal its size."""
    where = f"dimension '{dim}' category"
    category = doc["dimension"][dim].get("category") if isinstance(doc["dimension"][dim], dict) else None
    if not isinstance(category, dict):
        raise DecodeError(source, where, "missing 'category' object")
    index = category.get("index")
    if index is None:
        # JSON-stat lets a single-category dimension name its code in `label` only.
        index = list(category.get("label") or {})
    if isinstance(index, list):
        codes = index
    elif isinstance(index, dict):
        codes = [None] * len(index)
        for code, position in index.items():
            if type(position) is not int or not 0 <= position < len(index) or codes[position] is not None:
                raise DecodeError(source, f"{where} index '{code}'", f"position {position!r} is not one of 0..{len(index) - 1} "
                                  "or is used twice")
            codes[position] = code
    else:
        raise DecodeError(source, f"{where} index", "expected an object code -> position or a list of codes")
    if len(codes) != size:
        raise DecodeError(source, f"{where} index", f"{len(codes)} categories but 'size' says {size}")
    if not all(isinstance(c, str) and c for c in codes) or len(set(codes)) != len(codes):
        raise DecodeError(source, f"{where} index", "category codes must be distinct non-empty strings")
    return codes


def category_labels(doc: dict, ids: list[str]) -> list[tuple[str, str, str]]:
    """Every (dimension, code, label) the file names."""
    labels = []
    for dim in ids:
        named = doc["dimension"][dim]["category"].get("label") or {}
        labels.extend((dim, code, str(label)) for code, label in named.items())
    return labels


# ---------------------------------------------------------------- cells

def flat_indices(keys, count: int, total: int, field: str, source: str) -> np.ndarray:
    """Dict keys as flat cell indices, each checked to lie inside the cube."""
    try:
        indices = np.fromiter(keys, dtype=np.int64, count=count)
    except (ValueError, OverflowError):
        bad = next(k for k in keys if not k.strip().lstrip("-").isdigit())
        raise DecodeError(source, f"'{field}' key {bad!r}", "not a cell index") from None
    outside = (indices < 0) | (indices >= total)
    if outside.any():
        bad = list(keys)[int(np.argmax(outside))]
        raise DecodeError(source, f"'{field}' key {bad!r}", f"cell index out of range: the cube has {total} cells")
    return indices


def cell_name(cells, position: int, field: str) -> str:
    """Where the cell at `position` of a `value`/`status` dict or list is, for a DecodeError."""
    if isinstance(cells, dict):
        return f"'{field}' key {list(cells)[position]!r}"
    return f"'{field}' item {position}"


def number_array(numbers: list, values, source: str) -> np.ndarray:
    """The published numbers as float64, null as NaN; anything but a finite number or null is refused."""
    kinds = set(map(type, numbers))
    if not kinds <= NUMBER_TYPES:
        at = next(i for i, number in enumerate(numbers) if type(number) not in NUMBER_TYPES)
        raise DecodeError(source, cell_name(values, at, "value"), f"not a number: {numbers[at]!r}")
    if NoneType in kinds:
        floats = np.array(numbers, dtype=np.float64)
    else:
        floats = np.fromiter(numbers, dtype=np.float64, count=len(numbers))
    infinite = np.isinf(floats)
    if infinite.any():
        at = int(np.argmax(infinite))
        raise DecodeError(source, cell_name(values, at, "value"), f"not a finite number: {numbers[at]!r}")
    return floats


def read_values(values, total: int, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(flat indices, numbers) of the cells with a value; null is missing, never 0."""
    if isinstance(values, dict):
        indices = flat_indices(values, len(values), total, "value", source)
        numbers = list(values.values())
    elif isinstance(values, list):
        if len(values) != total:
            raise DecodeError(source, "key 'value'", f"list of {len(values)} cells but 'size' gives {total}")
        numbers, indices = values, np.arange(total, dtype=np.int64)
    else:
        raise DecodeError(source, "key 'value'", "expected an object or a list")
    floats = number_array(numbers, values, source)
    present = ~np.isnan(floats)
    return indices[present], floats[present]


def read_statuses(statuses, total: int, source: str) -> tuple[np.ndarray, list]:
    """(flat indices, statuses as published) of every cell `status` names."""
    if statuses is None:
        return np.empty(0, dtype=np.int64), []
    if isinstance(statuses, str):
        # JSON-stat: a single string is the status of every cell.
        return np.arange(total, dtype=np.int64), [statuses] * total
    if isinstance(statuses, dict):
        return flat_indices(statuses, len(statuses), total, "status", source), list(statuses.values())
    if isinstance(statuses, list):
        if len(statuses) != total:
            raise DecodeError(source, "key 'status'", f"list of {len(statuses)} cells but 'size' gives {total}")
        return np.arange(total, dtype=np.int64), statuses
    raise DecodeError(source, "key 'status'", "expected an object, a list or a string")


def status_problem(status) -> str | None:
    """None for a status this decoder reads, else what is wrong with it."""
    if not isinstance(status, str):
        return f"status is not a string: {status!r}"
    flags, _, conf = status.partition("|")
    flags, conf = flags.strip(), conf.strip()
    reason = flag_problem(flags, status) if flags else None
    if reason:
        return reason
    if conf and conf not in CONF_STATUS_CODES:
        return f"unknown confidentiality status {conf!r} in {status!r}"
    return None


def split_status(status: str) -> tuple[str | None, str | None]:
    """A valid published status as (flags exactly as published, confidentiality status or None)."""
    flags, _, conf = status.partition("|")
    flags, conf = flags.strip(), conf.strip()
    if conf and conf != "F" and "c" not in flags:
        flags += "c"
    return flags or None, conf or None


def distinct_statuses(indices: np.ndarray, texts: list, source: str) -> list:
    """The distinct statuses in order of first appearance; a status that cannot be one is refused."""
    try:
        return list(dict.fromkeys(texts))
    except TypeError:  # a list or object as a status
        at = next(i for i, text in enumerate(texts) if not isinstance(text, (str, NoneType)))
        where = f"'status' key '{int(indices[at])}'"
        raise DecodeError(source, where, f"status is not a string: {texts[at]!r}") from None


def status_kinds(indices: np.ndarray, texts: list, source: str) -> tuple[np.ndarray, ...]:
    """(flat indices, kinds, flags_of, confs_of) of the cells with a status; each distinct status checked once.

    A cell's kind is the position of its status in the flags_of/confs_of tables, whose slot 0 is 'no status'.
    """
    distinct = distinct_statuses(indices, texts, source)
    flags_of = np.full(len(distinct) + 1, None, dtype=object)
    confs_of = np.full(len(distinct) + 1, None, dtype=object)
    named = np.zeros(len(distinct) + 1, dtype=bool)
    for k, status in enumerate(distinct, start=1):
        if status is None or status == "":
            continue
        reason = status_problem(status)
        if reason:
            raise DecodeError(source, f"'status' key '{int(indices[texts.index(status)])}'", reason)
        flags_of[k], confs_of[k] = split_status(status)
        named[k] = True
    number = {status: k for k, status in enumerate(distinct, start=1)}
    kinds = np.fromiter(map(number.__getitem__, texts), dtype=np.intp, count=len(texts))
    kept = named[kinds]
    return indices[kept], kinds[kept], flags_of, confs_of


def sorted_distinct(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct numbers and, for each input number, its position among them (sort and mask, no hashing).

    The stable sort (a merge sort) does little work on runs that are already in order, as the series of cells
    taken in index order are.
    """
    order = np.argsort(numbers, kind="stable")
    ordered = numbers[order]
    starts = np.ones(len(numbers), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    positions = np.empty(len(numbers), dtype=np.int64)
    positions[order] = np.cumsum(starts) - 1
    return ordered[starts], positions


def cell_rows(value_at: np.ndarray, status_at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted distinct cells of both index arrays, and the row of each value and of each status among them."""
    cells, rows = sorted_distinct(np.concatenate([value_at, status_at]))
    return cells, rows[:len(value_at)], rows[len(value_at):]


# ---------------------------------------------------------------- assembling rows

def coordinate(cells: np.ndarray, sizes: list[int], i: int) -> np.ndarray:
    """The position along dimension i of every flat cell index (row-major: the last dimension varies fastest)."""
    return cells // math.prod(sizes[i + 1:]) % sizes[i]


def series_dims(ids: list[str], sizes: list[int], cells: np.ndarray, own: dict, codes: dict,
                confs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """One dims dict per row; rows of one series (same cell but for the `own` coordinates) share one dict.

    `confs` is (rows, confidentiality statuses) of the rows that have one: those rows get their own dict.
    """
    series = cells - sum(own[dim] * math.prod(sizes[ids.index(dim) + 1:]) for dim in own)
    firsts, inverse = sorted_distinct(series)
    unravelled = np.unravel_index(firsts, sizes) if len(firsts) else [[]] * len(ids)
    other = [i for i, dim in enumerate(ids) if dim not in own]
    names = [ids[i] for i in other]
    columns = [np.asarray(codes[ids[i]], dtype=object)[unravelled[i]] for i in other]
    dicts = np.empty(len(firsts), dtype=object)
    dicts[:] = [dict(zip(names, row)) for row in zip(*columns)] if names else [{} for _ in firsts]
    dims = dicts[inverse]
    for row, conf in zip(*confs):
        dims[row] = {**dims[row], "conf_status": conf}
    return dims


def dataset_of(doc: dict, source: str, expected: str | None) -> str:
    """The dataset code: extension.id, else the caller's, else the file name; file and caller must agree."""
    extension = doc.get("extension") if isinstance(doc.get("extension"), dict) else {}
    stated = extension.get("id")
    if stated is not None:
        code = str(stated).lower()
        if expected is not None and expected.lower() != code:
            raise DecodeError(source, "extension.id", f"holds {code!r}, expected {expected.lower()!r}")
    elif expected is not None:
        code = expected.lower()
    else:
        return dataset_from_name(source, FILE_SUFFIXES)
    return checked_code(code, source)


def published_cells(value_at: np.ndarray, numbers: np.ndarray, status_at: np.ndarray, kind_at: np.ndarray,
                    flagged: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat index, value, status kind) of every cell with a value or a flag, in index order.

    `kind_at` is the status kind of each cell of `status_at`; `flagged` tells per kind whether it carries a flag.
    """
    cells, value_rows, status_rows = cell_rows(value_at, status_at)
    value = np.full(len(cells), np.nan)
    value[value_rows] = numbers
    kinds = np.zeros(len(cells), dtype=np.intp)
    kinds[status_rows] = kind_at
    # a cell whose only status is 'free for publication' ('|F') and has no value publishes nothing
    published = flagged[kinds] | ~np.isnan(value)
    if not published.all():
        cells, value, kinds = cells[published], value[published], kinds[published]
    return cells, value, kinds


def observation_frame(code: str, ids: list[str], sizes: list[int], codes: dict, cells: np.ndarray,
                      value: np.ndarray, flags: np.ndarray, confs: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    """The DECODED_COLUMNS frame of the published cells, each column built once from the cells' coordinates."""
    own = {dim: coordinate(cells, sizes, ids.index(dim)) for dim in OWN_COLUMNS if dim in ids}
    no_unit = pd.Series(np.full(len(cells), None), dtype=object)  # object dtype keeps None (str would write NaN)
    rows = pd.RangeIndex(len(cells))  # one index shared by every column: nothing to align
    frame = pd.DataFrame({
        "dataset": coded_column(np.zeros(len(cells), dtype=np.int8), [code]),
        "geo": coded_column(own["geo"], codes["geo"]),
        "period": coded_column(own["time"], codes["time"]),
        "unit": coded_column(own["unit"], codes["unit"]) if "unit" in own else no_unit,
        "dims": pd.Series(series_dims(ids, sizes, cells, own, codes, confs), index=rows, dtype=object),
        "value": value,
        "flags": pd.Series(flags, index=rows, dtype=object),
    }, index=rows, copy=False)
    assert list(frame.columns) == DECODED_COLUMNS
    return frame


def decode(raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode one JSON-stat 2.0 body (gzip or plain) into tidy observations (see the module docstring)."""
    doc = read_document(raw, source)
    ids, sizes = read_shape(doc, source)
    codes = {dim: category_codes(doc, dim, size, source) for dim, size in zip(ids, sizes)}
    code = dataset_of(doc, source, dataset)
    total = math.prod(sizes)
    value_at, numbers = read_values(doc["value"], total, source)
    status_at, kind_at, flags_of, confs_of = status_kinds(*read_statuses(doc.get("status"), total, source), source)
    flagged = flags_of != None  # noqa: E711 (elementwise on objects)
    cells, value, kinds = published_cells(value_at, numbers, status_at, kind_at, flagged)
    assert not (np.isnan(value) & ~flagged[kinds]).any(), f"{source}: a row with neither value nor flag"
    conf_rows = np.flatnonzero((confs_of != None)[kinds])  # noqa: E711
    frame = observation_frame(code, ids, sizes, codes, cells, value, flags_of[kinds],
                              (conf_rows, confs_of[kinds[conf_rows]]))
    updated = doc.get("updated")
    return Decoded(dataset=code, observations=frame, source_updated=None if updated is None else str(updated),
                   labels=category_labels(doc, ids))


# ---------------------------------------------------------------- partial answers

def observation_keys(obs: pd.DataFrame) -> pd.Series:
    """One hashable key per observation: dataset, geo, period, unit and dims (without conf_status)."""
    dims = obs["dims"].map(lambda d: tuple(sorted((k, v) for k, v in (d or {}).items() if k != "conf_status")))
    unit = obs["unit"].astype(object)
    unit = unit.where(unit.notna(), None)  # NaN never equals NaN, so a missing unit must be None to match
    return pd.Series(list(zip(obs["dataset"], obs["geo"], obs["period"], unit, dims)), index=obs.index)


def merge_parts(parts: list[Decoded], sources: list[str] | None = None) -> Decoded:
    """Several partial answers of one dataset as one Decoded; identical duplicates dropped, conflicting ones refused."""
    assert parts, "merge_parts needs at least one part"
    names = sources or [f"part {i + 1}" for i in range(len(parts))]
    assert len(names) == len(parts), f"{len(names)} source names for {len(parts)} parts"
    joined = " + ".join(names)
    datasets = sorted({p.dataset for p in parts})
    if len(datasets) != 1:
        raise DecodeError(joined, "dataset", f"parts of different datasets {datasets} cannot be merged")
    frames = [p.observations.assign(_part=i) for i, p in enumerate(parts)]
    obs = pd.concat(frames, ignore_index=True)
    keys = observation_keys(obs)
    repeated = keys.duplicated(keep=False)
    if repeated.any():
        refuse_conflicts(obs[repeated], keys[repeated], names)
    merged = obs[~keys.duplicated(keep="first")].drop(columns="_part").reset_index(drop=True)
    return Decoded(dataset=datasets[0], observations=merged[DECODED_COLUMNS],
                   source_updated=latest_update(parts), labels=union_labels(parts),
                   warnings=merge_warnings(parts, names, int(len(obs) - len(merged))))


def refuse_conflicts(rows: pd.DataFrame, keys: pd.Series, names: list[str]) -> None:
    """Raise when one observation appears more than once with different value, flags or confidentiality."""
    flags = rows["flags"].astype(object)
    conf = rows["dims"].map(lambda d: (d or {}).get("conf_status"))
    payload = pd.DataFrame({"key": keys, "value": rows["value"].astype("float64"),
                            "flags": flags.where(flags.notna(), ""), "conf": conf.where(conf.notna(), ""),
                            "part": rows["_part"]})
    # identical copies collapse to one (NaN equals NaN here); a key left twice differs in what was published
    distinct = payload.drop_duplicates(["key", "value", "flags", "conf"])
    clash = distinct[distinct["key"].duplicated(keep=False)]
    if len(clash):
        first, other = clash[clash["key"] == clash["key"].iloc[0]].to_dict("records")[:2]
        _, geo, period, unit, dims = first["key"]
        raise DecodeError(
            f"{names[first['part']]} + {names[other['part']]}",
            f"observation geo={geo} period={period} unit={unit} dims={dict(dims)}",
            f"conflicting duplicate: {first['value']!r} flags {first['flags']!r} "
            f"vs {other['value']!r} flags {other['flags']!r}",
        )


def latest_update(parts: list[Decoded]) -> str | None:
    """The latest source_updated the parts state (ISO 8601 strings sort by time within one zone)."""
    stamps = [p.source_updated for p in parts if p.source_updated]
    return max(stamps) if stamps else None


def union_labels(parts: list[Decoded]) -> list[tuple[str, str, str]]:
    """Every (dimension, code, label) of the parts, first naming kept, in order of appearance."""
    seen: dict[tuple[str, str], str] = {}
    for part in parts:
        for dim, code, label in part.labels:
            seen.setdefault((dim, code), label)
    return [(dim, code, label) for (dim, code), label in seen.items()]


def merge_warnings(parts: list[Decoded], names: list[str], dropped: int) -> list[str]:
    """The parts' warnings plus notes on dropped duplicates and differing update stamps."""
    warnings = [w for p in parts for w in p.warnings]
    if dropped:
        warnings.append(f"{dropped} identical duplicate observations across {', '.join(names)} dropped")
    stamps = {p.source_updated for p in parts if p.source_updated}
    if len(stamps) > 1:
        warnings.append(f"parts state different update stamps {sorted(stamps)}; kept the latest")
    return warnings


def sniff(path) -> str | None:
    """None for a JSON object (JSON-stat is one), else why the file is not JSON-stat."""
    if head_bytes(path, 4096).lstrip()[:1] == b"{":
        return None
    return "JSON-stat (the body is not a JSON object)"


def updated(body: bytes) -> str | None:
    """JSON-stat's own `updated` stamp, or None."""
    raw = gzip.decompress(body) if body[:2] == GZIP_MAGIC else body
    try:
        doc = load_json(raw)
    except ValueError:
        return None
    return doc.get("updated") if isinstance(doc, dict) else None


FORMAT = Format("jsonstat", (".json", ".json.gz"), "application/json", decode, sniff=sniff, updated=updated,
                live=("jsonstat", "jsonstat-sdmx3"))
