"""Peak memory and time of the live client against a misbehaving server: gzip bombs and a dripping body.

Usage:
    .venv/bin/python bench/download_limits_bench.py [--inflated-mib 1024] [--drip-seconds 5] [--deadline 120]
                                                     [--max-mib 512] [--runs 1]

Each case runs in a fresh interpreter (so its peak RSS, ru_maxrss, is its own) against the loopback Eurostat of
tests/loopback.py: a gzip body of --inflated-mib MiB of zeros sent with Content-Encoding: gzip, the same sent as a
gzip body without the header (what compressed=true answers look like), and a body dripped one byte every
--drip-seconds. The client runs with its defaults (512 MiB inflated limit, 120 s deadline) unless told otherwise.
A peer run fetches the real recorded tin00074 TSV in the same way, for the ratio. Figures are medians over --runs.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIB = 1 << 20


def one_case(case: str, inflated_mib: int, drip: float, deadline: float, max_mib: int) -> dict:
    """Run one case in this process; returns outcome, seconds and peak RSS."""
    sys.path.insert(0, str(ROOT))
    from etl.sources.eurostat import EurostatClient, EurostatError
    from tests.loopback import Fault, gzip_bomb, start_server
    if case.startswith("bomb"):
        gzip_bomb(inflated_mib * MIB)  # built before the clock starts, so the server answers at once
    server = start_server()
    faults = {"bomb-content-encoding": Fault.bomb(inflated_mib * MIB, encoding="content"),
              "bomb-gzip-body": Fault.bomb(inflated_mib * MIB, encoding="gzip"),
              "drip": Fault.drip(drip), "peer": None}
    if faults[case]:
        server.add_fault(faults[case])
    client = EurostatClient(base_url=server.base_url, deadline=deadline, max_bytes=max_mib * MIB)
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as raw:
            client.fetch_dataset("tin00074", "tsv", raw_dir=Path(raw))
        outcome = "accepted"
    except EurostatError as err:
        outcome = f"refused: {err.reason[:110]}"
    seconds = time.perf_counter() - start
    server.close()
    return {"case": case, "outcome": outcome, "seconds": seconds,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    """Run every case in a fresh interpreter and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inflated-mib", type=int, default=1024)
    parser.add_argument("--drip-seconds", type=float, default=5.0)
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--max-mib", type=int, default=512)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(one_case(args.case, args.inflated_mib, args.drip_seconds, args.deadline, args.max_mib)))
        return
    results = {}
    for case in ("peer", "bomb-content-encoding", "bomb-gzip-body", "drip"):
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, __file__, "--case", case, "--inflated-mib", str(args.inflated_mib),
                                  "--drip-seconds", str(args.drip_seconds), "--deadline", str(args.deadline),
                                  "--max-mib", str(args.max_mib)], capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        results[case] = {"outcome": runs[-1]["outcome"],
                         "seconds": statistics.median(r["seconds"] for r in runs),
                         "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs)}
    peer = results["peer"]
    print(f"limits: {args.max_mib} MiB inflated, {args.deadline:g} s deadline; bombs inflate to {args.inflated_mib} MiB; "
          f"drip 1 byte / {args.drip_seconds:g} s")
    for case, figures in results.items():
        print(f"{case:24s} {figures['seconds']:8.2f} s  peak RSS {figures['peak_rss_mib']:7.1f} MiB "
              f"(x{figures['peak_rss_mib'] / peer['peak_rss_mib']:.2f} of peer)  {figures['outcome']}")


if __name__ == "__main__":
    main()
