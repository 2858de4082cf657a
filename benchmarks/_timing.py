"""Timing shared by the benchmarks that run their scripts directly."""

import statistics
import time


def median_time(function, repeats):
    """Median wall time of ``repeats`` calls of ``function``, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
