"""Timing shared by the benchmarks that run their scripts directly."""

import contextlib
import statistics
import subprocess
import sys
import time


def median_time(function, repeats):
    """Median wall time of ``repeats`` calls of ``function``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextlib.contextmanager
def busy_machine(enabled=True):
    """Two CPU-bound background processes (a pipeline's other jobs), stopped by pid."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2 if enabled else 0)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
