"""`dsm schedule --every 12h`: refresh now and then at every interval, one run at a time, recorded like any refresh.

Never overlapping itself: runs are sequential in this process, a second scheduler on the same data dir is refused
(flock on .schedule.lock), and a `dsm refresh` started by hand meanwhile is refused by the refresh lock. A run
that takes longer than the interval is followed by the next one at once, not by a pile of missed ones.
SIGTERM while waiting ends the scheduler; during a run it ends that run as interrupted, then the scheduler.
"""
from __future__ import annotations

import fcntl
import re
import signal
import sys
import threading
import time

from etl import config
from etl.refresh import Interrupted, RefreshError, refresh

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
LOCK_FILE = ".schedule.lock"


def parse_every(text: str) -> float:
    """Seconds in an interval like '12h', '30m', '1d' or '90s'."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text or "")
    if not match or float(match[1]) <= 0:
        raise ValueError(f"--every {text!r}: give a positive number and a unit s, m, h or d (e.g. 12h)")
    return float(match[1]) * UNITS[match[2]]


def run_schedule(every: float, options: dict, runs: int | None = None, out=sys.stdout) -> int:
    """Refresh every `every` seconds until SIGTERM/SIGINT (or `runs` runs); returns the exit code."""
    data_dir = config.data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / LOCK_FILE, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.stderr.write(f"error: another dsm schedule is running on {data_dir} ({LOCK_FILE})\n")
        return 1
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    done = 0
    try:
        while not stop.is_set():
            start = time.monotonic()
            try:
                report = refresh(**options)  # during a run, the refresh turns SIGTERM into Interrupted itself
                out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} refresh {report.run_id}: "
                          f"{len(report.rebuilt)} rebuilt, {len(report.failed)} failed"
                          f"{', database rebuilt' if report.database_rebuilt else ''}\n")
            except Interrupted:
                out.write("refresh interrupted by SIGTERM; scheduler stops\n")
                return 0
            except RefreshError as err:  # recorded in the runs log; the next run tries again
                out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {err}\n")
            out.flush()
            done += 1
            if runs is not None and done >= runs:
                break
            stop.wait(max(0.0, every - (time.monotonic() - start)))
    finally:
        signal.signal(signal.SIGTERM, previous)
        handle.close()
    return 0
