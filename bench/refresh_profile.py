"""Profile a full offline refresh: CPU time and the top hotspots (cumulative time) per stage.

Run:  .venv/bin/python bench/refresh_profile.py [--data DIR] [--top N] [--repeat N] [--no-change]
                                                [--group dataset|kind] [--dump FILE.prof]

The refresh is etl.refresh.refresh(offline=DIR, force=True) into a fresh temp data dir (DSM_DATA_DIR is
pointed there too). Stages are told apart by the refresh's own progress callback: 'setup' until the first
dataset, then 'fetch <dataset>', 'decode <dataset>' (decode, finalize, indicators, Parquet write),
'database' (DuckDB build and swap) and 'finish'. Each stage gets its own cProfile.Profile, switched inside
the callback, so a function's cumulative time is charged to the stage it ran in. The profiles' clock
is time.process_time (CPU of all threads, DuckDB's included), so a busy machine does not inflate them.
--group kind merges the per-dataset stages ('decode xlsx', 'fetch', ...) by the format of the files.
The CPU time of importing etl.refresh (pandas, pyarrow, duckdb), which every `dsm refresh` pays once and
which dominates a no-change run from the command line, is printed first.

CPU time (time.process_time) is what to compare: the machine is shared, so wall time is noisy. The whole
run is also timed without the profiler (--repeat runs, median), because cProfile roughly doubles the time
of call-heavy Python code. --no-change times a second, non-forced refresh over the same data dir.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED_DATA = REPO / ".." / "shared" / "data"


class StageProfiler:
    """One cProfile.Profile and one CPU-time total per stage, switched by the refresh's progress callback."""

    def __init__(self, stage_of=lambda dataset, stage: f"{stage} {dataset}", profile: bool = True):
        self.stage_of, self.profile = stage_of, profile
        self.profiles: dict[str, cProfile.Profile] = {}
        self.cpu: dict[str, float] = {}
        self.current: str | None = None
        self.started = 0.0

    def switch(self, stage: str) -> None:
        """Stop charging the current stage and start charging `stage`."""
        now = time.process_time()
        if self.current is not None:
            if self.profile:
                self.profiles[self.current].disable()
            self.cpu[self.current] = self.cpu.get(self.current, 0.0) + now - self.started
        self.current = stage
        if stage is not None and self.profile:
            self.profiles.setdefault(stage, cProfile.Profile(time.process_time)).enable()
        self.started = time.process_time()

    def progress(self, dataset: str, stage: str, done: int, total: int) -> None:
        """etl.refresh Progress callback: every dataset stage gets its own profile."""
        if stage in ("fetch", "decode"):
            self.switch(self.stage_of(dataset, stage))
        elif stage == "database" and done == 0:
            self.switch("database")
        elif stage in ("built", "unchanged", "missing") or stage == "database":
            self.switch("finish" if stage == "database" else "between datasets")


def format_of_dataset(offline: Path):
    """A stage namer that groups datasets by the format(s) of their recorded files ('decode xlsx')."""
    from etl.catalogue import load_catalogue
    from etl.sources.recorded import RecordedSource
    source = RecordedSource(offline, set(load_catalogue().datasets))
    formats = {dataset: "+".join(sorted({source.format_of(p) for p in source.files_for(dataset)}))
               for dataset in source.datasets()}
    return lambda dataset, stage: f"{stage} {formats.get(dataset, '?')}" if stage == "decode" else stage


def fresh_data_dir() -> Path:
    """An empty data dir, also exported as DSM_DATA_DIR so nothing reads the project's own data/."""
    data_dir = Path(tempfile.mkdtemp(prefix="dsm-profile-"))
    os.environ["DSM_DATA_DIR"] = str(data_dir)
    return data_dir


def profiled_refresh(offline: Path, data_dir: Path, stage_of, force: bool = True) -> StageProfiler:
    """One refresh under per-stage profiles."""
    from etl.refresh import refresh
    profiler = StageProfiler(stage_of)
    profiler.switch("setup")
    refresh(offline=offline, force=force, progress=profiler.progress, data_dir=data_dir)
    profiler.switch(None)
    return profiler


def cpu_of_refresh(offline: Path, repeat: int, no_change: bool, stage_of) -> tuple[list[float], list[float], list[dict]]:
    """CPU seconds of `repeat` unprofiled forced refreshes (fresh dirs), of no-change reruns, and per stage."""
    from etl.refresh import refresh
    full, unchanged, stages = [], [], []
    for _ in range(repeat):
        data_dir = fresh_data_dir()
        try:
            clock = StageProfiler(stage_of, profile=False)
            start = time.process_time()
            clock.switch("setup")
            refresh(offline=offline, force=True, progress=clock.progress, data_dir=data_dir)
            clock.switch(None)
            full.append(time.process_time() - start)
            stages.append(clock.cpu)
            if no_change:
                start = time.process_time()
                report = refresh(offline=offline, data_dir=data_dir)
                unchanged.append(time.process_time() - start)
                assert not report.rebuilt, f"a no-change refresh rebuilt {report.rebuilt}"
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    return full, unchanged, stages


def top_lines(profile: cProfile.Profile, top: int) -> str:
    """The `top` functions of one profile by cumulative time, as pstats prints them."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    text = out.getvalue()
    return text[text.find("   ncalls"):].rstrip() if "   ncalls" in text else text.strip()


def report(profiler: StageProfiler, top: int, min_share: float) -> None:
    """Print stages by CPU time, then each big stage's hotspots."""
    total = sum(profiler.cpu.values())
    print(f"\nprofiled run: {total:.2f} s CPU (cProfile overhead included)\n")
    ranked = sorted(profiler.cpu.items(), key=lambda kv: -kv[1])
    for stage, seconds in ranked:
        print(f"  {seconds:7.3f} s  {100 * seconds / total:5.1f} %  {stage}")
    for stage, seconds in ranked:
        if seconds / total < min_share:
            continue
        print(f"\n===== {stage}: {seconds:.3f} s CPU, top {top} by cumulative time =====")
        print(top_lines(profiler.profiles[stage], top))


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="recorded folder (default ../shared/data)")
    parser.add_argument("--top", type=int, default=15, help="functions listed per stage")
    parser.add_argument("--repeat", type=int, default=3, help="unprofiled runs for the CPU-time medians (0: none)")
    parser.add_argument("--min-share", type=float, default=0.03, help="list hotspots of stages above this share")
    parser.add_argument("--group", choices=["dataset", "kind"], default="dataset", help="one stage per dataset or per format")
    parser.add_argument("--no-change", action="store_true", help="also time a non-forced rerun over the same data dir")
    parser.add_argument("--dump", type=Path, help="also write the whole profiled run's stats here (snakeviz etc.)")
    args = parser.parse_args(argv)
    offline = args.data.resolve()
    assert offline.is_dir(), f"{offline}: no recorded folder there"
    start = time.process_time()
    import etl.refresh  # noqa: F401  (timed: the first import is what the command line pays)
    print(f"import etl.refresh: {time.process_time() - start:.2f} s CPU")

    data_dir = fresh_data_dir()
    try:
        stage_of = format_of_dataset(offline) if args.group == "kind" else (lambda dataset, stage: f"{stage} {dataset}")
        profiler = profiled_refresh(offline, data_dir, stage_of)
        report(profiler, args.top, args.min_share)
        if args.dump:
            merged = pstats.Stats(*profiler.profiles.values())
            merged.dump_stats(args.dump)
            print(f"\nwrote {args.dump}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if args.repeat:
        full, unchanged, stages = cpu_of_refresh(offline, args.repeat, args.no_change, stage_of)
        print(f"\nunprofiled forced refresh CPU: median {statistics.median(full):.2f} s over {len(full)} runs "
              f"({', '.join(f'{t:.2f}' for t in full)})")
        names = sorted({name for run in stages for name in run}, key=lambda n: -statistics.median(r.get(n, 0) for r in stages))
        for name in names:
            print(f"  {statistics.median(r.get(name, 0.0) for r in stages):7.3f} s  {name}")
        if unchanged:
            print(f"unprofiled no-change refresh CPU: median {statistics.median(unchanged):.2f} s "
                  f"({', '.join(f'{t:.2f}' for t in unchanged)})")


if __name__ == "__main__":
    main()
