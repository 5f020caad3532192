"""Two versions of the TSV decoder timed in turn in one process: before/after figures for a change to etl/formats/tsv.py.

Run:  git show REV:etl/formats/tsv.py > /tmp/tsv_old.py
      .venv/bin/python bench/tsv_pair.py /tmp/tsv_old.py etl/formats/tsv.py [--scale 1000] [--rounds 5]

Both files are loaded as modules of their own beside this checkout's etl package (so the old file must import only
what the package still has). Each round calls A then B on the same bytes (the largest TSV recording, scaled as in
etl_bench); the figures are median CPU times and B's time over A's.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import etl_bench  # noqa: E402  (a sibling script, importable once bench/ is on the path)


def load(path: Path, name: str):
    """A decoder file as a module of its own name."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module   # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=0, help="default: 60 at x1, 5 above")
    parser.add_argument("--data", type=Path, default=etl_bench.SHARED_DATA)
    args = parser.parse_args()
    decoders = {"A": load(args.a, "tsv_a"), "B": load(args.b, "tsv_b")}
    body = etl_bench.scaled_tsv((args.data / etl_bench.SCALED_TSV).read_bytes(), args.scale)
    rounds = args.rounds or (60 if args.scale == 1 else 5)
    calls = 20 if args.scale == 1 else 1          # a small file: several calls per timing, above the clock's grain
    times = etl_bench.paired_cpu({name: (lambda d=d: [d.decode(body, "x.tsv", dataset="x") for _ in range(calls)])
                                  for name, d in decoders.items()}, rounds)
    a, b = times["A"] / calls, times["B"] / calls
    print(f"TSV x{args.scale} ({len(body):,} bytes), median CPU over {rounds} rounds: "
          f"A {a * 1000:.2f} ms, B {b * 1000:.2f} ms, B/A {b / a:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
