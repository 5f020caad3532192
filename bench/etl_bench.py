"""ETL benchmark: decode throughput per format beside peers, and wall time of full and no-change offline refreshes.

Run:  .venv/bin/python bench/etl_bench.py [--data DIR] [--repeat N] [--no-scaled]

Throughput is observations per second, where "observations" is the number of published cells our decoder
returns for the file (cells with a value or a flag); every tool parses the same bytes, so the same count is
used for all and the ratios are ratios of time. Figures are medians over --repeat runs.
Peers:
- JSON-stat: pyjstat (Dataset.read(text).write('dataframe')), gzip bodies decompressed inside the timing.
- TSV: pyarrow.csv reading the cells as text (one thread, nothing decoded: a floor for library-call decoders);
  the `eurostat` package's own parser inside eurostat.get_data (it has no separate parse function; its
  two HTTP calls are stubbed to hand it the recorded bytes, with the CRLF line ends the live API sends);
  a plain pandas read_csv + melt + value/flag split; and DuckDB read_csv (plain, and with UNPIVOT to one
  row per cell).
Scaled: the TSV and the JSON-stat recording with the most cells, and copies of them x100 and x1000 made in a
temporary folder (more geos: every series repeated with its geo code suffixed), so cost per cell can be seen
to stay flat; TSV beside DuckDB read_csv of the same file and the eurostat package, JSON-stat beside json.loads
(the target's yardstick) and orjson.loads (the parser our decoder uses).
Ours and its peers are timed in turn within each round (paired_cpu), so a ratio is not skewed by load changes
between one series of runs and the next.
"""
from __future__ import annotations

import argparse
import gzip
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARED_DATA = REPO / ".." / "shared" / "data"
TARGETS = {"peer_ratio": 10.0, "duckdb_ratio": 0.5, "full_refresh_s": 5.0, "nochange_refresh_s": 1.0,
           "scaled_tsv_vs_duckdb": 1.5, "scaled_jsonstat_vs_json_loads": 2.0}
SCALES = (1, 100, 1000)
# the recordings with the most cells of their format: the ones scaled up
SCALED_TSV = "eurostat/tsv/isoc_e_dii.tsv"
SCALED_JSONSTAT = "eurostat/jsonstat/isoc_e_dii_all.json.gz"


def median_time(function, repeat: int, clock=time.perf_counter) -> float:
    """Median time of `repeat` calls by `clock` (one warm-up call first)."""
    function()
    times = []
    for _ in range(repeat):
        start = clock()
        function()
        times.append(clock() - start)
    return statistics.median(times)


def median_cpu(function, repeat: int) -> float:
    """Median CPU time of this process (all threads): steadier than wall time on a shared machine."""
    return median_time(function, repeat, clock=time.process_time)


def paired_cpu(functions: dict, repeat: int) -> dict[str, float]:
    """Median CPU time of each function, the functions called in turn within every round (one warm-up round first),
    so a ratio between them is not skewed by the machine getting busier or quieter between one series and the next."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for round_ in range(repeat + 1):
        for name, function in functions.items():
            start = time.process_time()
            function()
            if round_:
                times[name].append(time.process_time() - start)
    return {name: statistics.median(spent) for name, spent in times.items()}


def largest_per_format(folder: Path) -> dict[str, tuple[str, Path]]:
    """format -> (dataset, path) of the largest recorded file of that format."""
    from etl.catalogue import load_catalogue
    from etl.sources.recorded import RecordedSource
    source = RecordedSource(folder, set(load_catalogue().datasets))
    best: dict[str, tuple[str, Path]] = {}
    for dataset in sorted(source.datasets()):
        for path in source.files_for(dataset):
            fmt = source.format_of(path)
            if fmt not in best or path.stat().st_size > best[fmt][1].stat().st_size:
                best[fmt] = (dataset, path)
    return best


def our_decode(fmt: str, dataset: str, body: bytes, name: str):
    """A callable running our decoder on the body; and one running decode + finalize."""
    import pandas as pd
    from etl.model import finalize
    from etl.formats import registry
    module = registry.get(fmt)
    stamp = pd.Timestamp("2025-01-01", tz="UTC")
    decode = lambda: module.decode(body, name, dataset=dataset)  # noqa: E731
    full = lambda: finalize(module.decode(body, name, dataset=dataset), retrieved_at=stamp, source_file=name)  # noqa: E731
    return decode, full


def pyjstat_peer(body: bytes):
    """pyjstat reading the same JSON-stat into a data frame."""
    from pyjstat import pyjstat

    def run():
        text = (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body).decode("utf-8")
        return pyjstat.Dataset.read(text).write("dataframe")
    return run


def eurostat_package_peer(body: bytes):
    """The eurostat package's TSV parser (in get_data), its HTTP calls stubbed with the recorded bytes."""
    import eurostat.eurostat as es
    text = body.decode("utf-8")
    dims_text = text.split("\t", 1)[0].split("\\", 1)[0].split(",")
    served = gzip.compress(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"), compresslevel=1)

    class Answer:
        content = served

    def run():
        saved = (es.__get_dims_info__, es.__get_resp__)
        es.__get_dims_info__ = lambda code, detail=None: (None, "EUROSTAT", [(i, d) for i, d in enumerate(dims_text)])
        es.__get_resp__ = lambda url, **kwargs: Answer()
        try:
            return es.get_data("bench", flags=True)
        finally:
            es.__get_dims_info__, es.__get_resp__ = saved
    return run


def pandas_melt_peer(body: bytes):
    """A plain pandas read_csv + melt + value/flag split of a Eurostat TSV."""
    import pandas as pd

    def run():
        frame = pd.read_csv(io.BytesIO(body), sep="\t", dtype=str)
        key = frame.columns[0]
        long = frame.melt(id_vars=[key], var_name="period", value_name="cell")
        parts = long["cell"].str.strip().str.split(" ", n=1, expand=True)
        long["value"] = pd.to_numeric(parts[0].where(parts[0] != ":"), errors="coerce")
        long["flags"] = parts[1] if parts.shape[1] > 1 else None
        return long
    return run


def duckdb_peers(path: Path):
    """DuckDB read_csv of the TSV: plain, and unpivoted to one row per cell with the value split off."""
    import duckdb
    con = duckdb.connect()
    first = path.read_text("utf-8").split("\t", 1)[0]
    plain = lambda: con.sql("SELECT * FROM read_csv(?, delim='\t', header=true, all_varchar=true)", params=[str(path)]).to_arrow_table()  # noqa: E731
    unpivot_sql = (
        "SELECT k, period, TRY_CAST(split_part(trim(cell), ' ', 1) AS DOUBLE) AS value, "
        "nullif(split_part(trim(cell), ' ', 2), '') AS flags FROM ("
        "UNPIVOT (SELECT * FROM read_csv(?, delim='\t', header=true, all_varchar=true)) "
        "ON COLUMNS(* EXCLUDE (\"{first}\")) INTO NAME period VALUE cell) AS u(k, period, cell) "
        "WHERE trim(cell) <> ':'"
    ).format(first=first.replace('"', '""'))
    unpivot = lambda: con.sql(unpivot_sql, params=[str(path)]).to_arrow_table()  # noqa: E731
    return plain, unpivot


def pyarrow_csv_peer(body: bytes):
    """pyarrow.csv reading the TSV's cells as text on one thread: no key split, no number read, no row per cell, so
    a floor under any decoder built on library calls."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    names = body.split(b"\n", 1)[0].decode("utf-8").rstrip("\r").split("\t")
    read = pcsv.ReadOptions(use_threads=False, block_size=1 << 24)
    parse = pcsv.ParseOptions(delimiter="\t", quote_char=False)
    convert = pcsv.ConvertOptions(column_types={name: pa.string() for name in names})
    return lambda: pcsv.read_csv(pa.py_buffer(body), read_options=read, parse_options=parse, convert_options=convert)


def rate(observations: int, seconds: float) -> str:
    """Observations per second, human sized."""
    return f"{observations / seconds:>12,.0f} obs/s  ({seconds * 1000:8.1f} ms)"


def bench_decoders(folder: Path, repeat: int) -> list[str]:
    """Print per-format throughput beside the peers; returns the target misses."""
    misses = []
    print("== decode throughput (largest recorded file per format; median CPU time of", repeat, "runs, same process)")
    for fmt, (dataset, path) in sorted(largest_per_format(folder).items()):
        body = path.read_bytes()
        decode, full = our_decode(fmt, dataset, body, path.name)
        n = len(decode().observations)
        ours_full = median_cpu(full, repeat)
        peers = []
        if fmt == "jsonstat":
            peers.append(("pyjstat", pyjstat_peer(body), TARGETS["peer_ratio"]))
        if fmt == "tsv":
            plain, unpivot = duckdb_peers(path)
            peers += [("eurostat package (get_data parser)", eurostat_package_peer(body), TARGETS["peer_ratio"]),
                      ("pandas read_csv + melt", pandas_melt_peer(body), None),
                      ("pyarrow.csv read_csv (text only)", pyarrow_csv_peer(body), None),
                      ("duckdb read_csv", plain, TARGETS["duckdb_ratio"]),
                      ("duckdb read_csv + unpivot", unpivot, None)]
        timed = paired_cpu({"ours": decode, **{name: function for name, function, _ in peers}}, repeat)
        ours = timed["ours"]
        print(f"\n[{fmt}] {path.name} ({len(body):,} bytes, {n:,} observations)")
        print(f"  ours: decode             {rate(n, ours)}")
        print(f"  ours: decode + finalize  {rate(n, ours_full)}")
        for name, _, target in peers:
            seconds = timed[name]
            ratio = seconds / ours
            verdict = ""
            if target is not None:
                ok = ratio >= target
                verdict = f"  target >= {target:g}x: {'met' if ok else 'MISSED'}"
                if not ok:
                    misses.append(f"{fmt} decoder vs {name}: {ratio:.2f}x (target {target:g}x)")
            print(f"  {name:<34} {rate(n, seconds)}   ours is {ratio:6.2f}x as fast{verdict}")
        if fmt == "tsv":
            budget = timed["eurostat package (get_data parser)"] / TARGETS["peer_ratio"]
            floor = timed["pyarrow.csv read_csv (text only)"]
            print(f"  the {TARGETS['peer_ratio']:g}x target allows {budget * 1000:.1f} ms: ours takes "
                  f"{ours / budget:.0%} of it, pyarrow.csv's text-only read {floor / budget:.0%}")
    return misses


def scaled_tsv(body: bytes, scale: int) -> bytes:
    """A TSV with every series line repeated `scale` times, copy k's geo code suffixed _k (distinct series)."""
    eol = b"\r\n" if b"\r\n" in body[:4096] else b"\n"
    header, rest = body.split(eol, 1)
    lines = rest.rstrip(b"\r\n").split(eol)
    out = [header]
    for copy in range(scale):
        suffix = b"_%d" % copy if copy else b""
        out += [key.rstrip() + suffix + b"\t" + cells for key, cells in (line.split(b"\t", 1) for line in lines)]
    return eol.join(out) + eol


def scaled_jsonstat(body: bytes, scale: int) -> bytes:
    """A JSON-stat body whose geo dimension holds `scale` copies of every geo (codes suffixed _k), cells copied too."""
    import json
    import numpy as np
    doc = json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
    sizes, at = list(doc["size"]), doc["id"].index("geo")
    category = doc["dimension"]["geo"]["category"]
    index = category["index"]
    codes = sorted(index, key=index.get) if isinstance(index, dict) else list(index)
    labels = category.get("label", {})
    copies = [f"{code}_{copy}" if copy else code for copy in range(scale) for code in codes]
    category["index"] = {code: position for position, code in enumerate(copies)}
    category["label"] = {copy: labels.get(copy.rsplit("_", 1)[0] if copy not in labels else copy, copy) for copy in copies}
    scaled_sizes = sizes.copy()
    scaled_sizes[at] = sizes[at] * scale

    def spread(cells: dict) -> dict:
        keys = np.array(list(cells), dtype=np.int64)
        coords = np.unravel_index(keys, sizes)
        items = list(cells.values())
        out = {}
        for copy in range(scale):
            moved = list(coords)
            moved[at] = coords[at] + copy * sizes[at]
            out.update(zip(map(str, np.ravel_multi_index(moved, scaled_sizes).tolist()), items))
        return out
    values = doc["value"] if isinstance(doc["value"], dict) else {str(i): v for i, v in enumerate(doc["value"]) if v is not None}
    doc["value"] = spread(values)
    if isinstance(doc.get("status"), dict):
        doc["status"] = spread(doc["status"])
    doc["size"] = scaled_sizes
    return json.dumps(doc).encode()


def bench_scaled(folder: Path, repeat: int) -> list[str]:
    """TSV and JSON-stat decode on the largest recordings and on x100 and x1000 copies, beside DuckDB and json.loads."""
    import json
    import duckdb
    import orjson
    from etl.formats import jsonstat, tsv
    misses = []
    print("\n== scaled copies (median CPU time, ours and its peers in turn; at x1000 the eurostat package and the JSON-stat row run once)")
    tsv_body, json_body = (folder / SCALED_TSV).read_bytes(), (folder / SCALED_JSONSTAT).read_bytes()
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as scratch:
        for scale in SCALES:
            runs = repeat if scale < 1000 else 1
            body = scaled_tsv(tsv_body, scale)
            path = Path(scratch) / f"x{scale}.tsv"
            path.write_bytes(body)
            cells = len(tsv.decode(body, path.name, dataset="x").observations)
            # ours and DuckDB take seconds at x1000, the eurostat package half a minute: it runs once there
            timed = paired_cpu({
                "ours": lambda: tsv.decode(body, path.name, dataset="x"),
                "duckdb": lambda: con.sql("SELECT * FROM read_csv(?, delim='\t', header=true, all_varchar=true)",
                                          params=[str(path)]).to_arrow_table()}, repeat)
            ours, duck = timed["ours"], timed["duckdb"]
            peer = median_cpu(eurostat_package_peer(body), runs)
            print(f"  [tsv x{scale}] {len(body):,} bytes, {cells:,} cells: ours {ours:.3f} s ({ours / cells * 1e6:.2f} us per cell), "
                  f"duckdb read_csv {duck:.3f} s "
                  f"(ours/duckdb {ours / duck:.2f}, target <= {TARGETS['scaled_tsv_vs_duckdb']:g}), "
                  f"eurostat package {peer:.3f} s (ours is {peer / ours:.1f}x as fast, target >= {TARGETS['peer_ratio']:g})")
            if ours / duck > TARGETS["scaled_tsv_vs_duckdb"]:
                misses.append(f"tsv x{scale}: {ours / duck:.2f}x DuckDB read_csv (target <= {TARGETS['scaled_tsv_vs_duckdb']:g})")
            if peer / ours < TARGETS["peer_ratio"]:
                misses.append(f"tsv x{scale}: {peer / ours:.1f}x the eurostat package (target >= {TARGETS['peer_ratio']:g})")
            body = scaled_jsonstat(json_body, scale)
            cells = len(jsonstat.decode(body, "x.json", dataset="isoc_e_dii").observations)
            timed = paired_cpu({"ours": lambda: jsonstat.decode(body, "x.json", dataset="isoc_e_dii"),
                                "json.loads": lambda: json.loads(body), "orjson.loads": lambda: orjson.loads(body)},
                               runs)
            ours, loads, fast = timed["ours"], timed["json.loads"], timed["orjson.loads"]
            print(f"  [jsonstat x{scale}] {len(body):,} bytes, {cells:,} cells: ours {ours:.3f} s "
                  f"({ours / cells * 1e6:.2f} us per cell), json.loads {loads:.3f} s "
                  f"(ours/json.loads {ours / loads:.2f}, target <= {TARGETS['scaled_jsonstat_vs_json_loads']:g}); "
                  f"orjson.loads, which ours parses with, {fast:.3f} s (ours/orjson.loads {ours / fast:.2f})")
            if ours / loads > TARGETS["scaled_jsonstat_vs_json_loads"]:
                misses.append(f"jsonstat x{scale}: {ours / loads:.2f}x json.loads "
                              f"(target <= {TARGETS['scaled_jsonstat_vs_json_loads']:g})")
    return misses


def decodable_copy(folder: Path, scratch: Path) -> tuple[Path, list[str]]:
    """A copy of the recorded folder without the files our decoders refuse (and why)."""
    from etl.catalogue import load_catalogue
    from etl.sources.recorded import RecordedSource
    source = RecordedSource(folder, set(load_catalogue().datasets))
    from etl.formats import registry
    refused = []
    target = scratch / "recorded"
    shutil.copytree(folder, target)
    for dataset in source.datasets():
        for path in source.files_for(dataset):
            try:
                registry.decode(source.format_of(path), path.read_bytes(), path.name, dataset=dataset)
            except Exception as err:  # report every refusal, whatever its kind
                refused.append(f"{path.name}: {err}")
                (target / path.relative_to(folder)).unlink()
    return target, refused


def bench_refresh(folder: Path, repeat: int) -> list[str]:
    """Print the wall time of full (--force) and no-change offline refreshes; returns the target misses."""
    from etl.refresh import RefreshError, refresh
    misses = []
    print("\n== offline refresh of", folder.resolve())
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        source = folder
        try:
            report = refresh(offline=source, data_dir=scratch / "probe")
        except RefreshError as err:
            print(f"  the full folder does not refresh: {err}")
            source, refused = decodable_copy(folder, scratch)
            print("  measuring on a copy without the files the decoders refuse:")
            for line in refused:
                print("   -", line[:160])
            report = refresh(offline=source, data_dir=scratch / "probe")
        print(f"  {len(report.rebuilt)} datasets, {report.total_rows:,} observations, "
              f"{len(report.missing_indicators)} indicators without rows (live-only or refused)")
        data_dir = scratch / "data"
        full = median_time(lambda: refresh(offline=source, data_dir=data_dir, force=True), repeat)
        nochange = median_time(lambda: refresh(offline=source, data_dir=data_dir), repeat)
    for label, seconds, target in (("full refresh (--force)", full, TARGETS["full_refresh_s"]),
                                   ("no-change refresh", nochange, TARGETS["nochange_refresh_s"])):
        ok = seconds < target
        print(f"  {label:<24} {seconds:6.2f} s   target < {target:g} s: {'met' if ok else 'MISSED'}")
        if not ok:
            misses.append(f"{label}: {seconds:.2f} s (target < {target:g} s)")
    return misses


def main() -> int:
    """Run every benchmark once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="recorded data folder")
    parser.add_argument("--repeat", type=int, default=5, help="runs per median")
    parser.add_argument("--no-scaled", action="store_true", help="skip the x100/x1000 copies (minutes, ~3 GB)")
    args = parser.parse_args()
    misses = bench_decoders(args.data, args.repeat) + bench_refresh(args.data, max(3, args.repeat // 2))
    if not args.no_scaled:
        misses += bench_scaled(args.data, max(3, args.repeat // 2))
    print("\n== targets missed:" if misses else "\n== all targets met")
    for miss in misses:
        print("  -", miss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
