"""Import cost of fastembed (issue 16: <= 40 ms of its own).

Runs ``python -X importtime -c "import fastembed"`` and ``... "import numpy"`` 7 times
each, in fresh interpreters, from a directory outside the checkout, and prints the
medians of the cumulative times and fastembed's own share (the difference: NumPy is a
dependency every user pays for anyway).

    python benchmarks/bench_import.py
"""

import statistics
import subprocess
import sys
import tempfile

TARGET_MS = 40.0


def cumulative_us(module, runs=7):
    """Median over ``runs`` fresh interpreters of the cumulative import time of ``module``."""
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import " + module],
            capture_output=True,
            text=True,
            cwd=tempfile.gettempdir(),
            check=True,
        ).stderr
        line = [row for row in out.splitlines() if row.rstrip().endswith("| " + module)][-1]
        times.append(int(line.split("|")[1]))
    return statistics.median(times)


def main():
    numpy_us = cumulative_us("numpy")
    fastembed_us = cumulative_us("fastembed")
    own_ms = (fastembed_us - numpy_us) / 1000
    print(
        "import numpy: %.1f ms; import fastembed: %.1f ms; fastembed's own: %.1f ms (medians of 7)"
        % (numpy_us / 1000, fastembed_us / 1000, own_ms)
    )
    print("%s fastembed's own import <= %.0f ms" % ("PASS" if own_ms <= TARGET_MS else "MISS", TARGET_MS))


if __name__ == "__main__":
    main()
