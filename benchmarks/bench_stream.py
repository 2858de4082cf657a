"""Out-of-core training (issue 17): peak memory of ``fastembed train`` on IMDB's training
CSV and on the same file repeated ``--repeat`` times (about 330 MB for 10), one epoch
each, in fresh processes. The command streams its file: memory must not grow with it.

    python benchmarks/bench_stream.py [--repeat 10] [--check]
    python benchmarks/bench_stream.py --busy   # 1 against 2 threads beside two busy processes

Prints peak RSS (the kernel's ``ru_maxrss`` of each child process), wall time, the
records per second and the test accuracy of each run. ``--check`` exits 1 when the
repeated file's peak RSS exceeds the single file's by more than 10%.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

DATA_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb"))
TRAIN = os.path.join(DATA_DIR, "imdb_train.csv")
TEST = os.path.join(DATA_DIR, "imdb_test.csv")


def repeated_csv(path, times, directory):
    """``path``'s rows ``times`` over, under one header (copied in blocks, never held whole)."""
    target = os.path.join(directory, "imdb_train_x%d.csv" % times)
    with open(path, "rb") as source:
        header = source.readline()
        body_start = source.tell()
        with open(target, "wb") as out:
            out.write(header)
            for _ in range(times):
                source.seek(body_start)
                shutil.copyfileobj(source, out, 1 << 22)
    return target


def train_once(data, directory, epochs, threads=None):
    """Run ``fastembed train`` in a child process; its peak RSS (MB), seconds and metrics."""
    out = os.path.join(directory, "run-%s" % os.path.basename(data))
    command = [sys.executable, "-m", "fastembed", "train", data, "--test", TEST, "--out", out, "--overwrite",
               "--epochs", str(epochs), "--seed", "0"] + (["--threads", str(threads)] if threads else [])  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    stderr = child.stderr.read().decode("utf-8", "replace")
    child.stderr.close()
    if status != 0:
        raise RuntimeError("fastembed train failed on %s:\n%s" % (data, stderr[-2000:]))
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)
    return usage.ru_maxrss / 1024, seconds, metrics  # ru_maxrss is in KiB on Linux


def load_whole_rss(data):
    """Peak RSS (MB) of a child that only loads the file whole, as the command did before it
    streamed (``load_text_dataset``): the reference the streaming numbers replace."""
    code = "import sys; from fastembed.datasets import load_text_dataset; load_text_dataset(sys.argv[1])"
    child = subprocess.Popen([sys.executable, "-c", code, data])
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise RuntimeError("loading %s failed" % data)
    return usage.ru_maxrss / 1024


def busy(args, repeats=5):
    """Streaming train beside two spinning processes: 2 threads must not lose to 1."""
    from _timing import busy_machine

    directory = tempfile.mkdtemp(prefix="fastembed-stream-")
    medians = {}
    try:
        with busy_machine():
            for threads in (1, 2) * repeats:
                _, _, metrics = train_once(TRAIN, directory, max(args.epochs, 3), threads)
                timings = metrics["timings"]
                medians.setdefault(threads, []).append((timings["encode_seconds"], timings["fit_seconds"]))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    for threads, runs in sorted(medians.items()):
        print("  %d thread(s): encode %s; fit %s" % (threads, " ".join("%.2f" % e for e, _ in runs),
                                                    " ".join("%.2f" % f for _, f in runs)))  # fmt: skip
    medians = {threads: [e + f for e, f in runs] for threads, runs in medians.items()}
    one, two = (sorted(medians[t])[len(medians[t]) // 2] for t in (1, 2))
    print("busy machine, IMDB x1, encode + fit (medians of %d): 1 thread %.2f s, 2 threads %.2f s  %s"
          % (repeats, one, two, "ok" if two <= one * 1.05 else "2 threads LOSE"))  # fmt: skip
    return 1 if args.check and two > one * 1.05 else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--busy", action="store_true", help="time 1 and 2 threads beside two busy processes")
    args = parser.parse_args()
    if not os.path.exists(TRAIN):
        print("../shared/data/imdb is not present; nothing to measure")
        return 0
    if args.busy:
        return busy(args)
    directory = tempfile.mkdtemp(prefix="fastembed-stream-")
    try:
        big = repeated_csv(TRAIN, args.repeat, directory)
        rows = []
        for name, data in (("x1", TRAIN), ("x%d" % args.repeat, big)):
            rss, seconds, metrics = train_once(data, directory, args.epochs)
            size = os.path.getsize(data) / 1e6
            records = metrics["train_samples"] / 0.8 * args.epochs  # validation records are read too
            rows.append(rss)
            print(
                "%-4s %7.1f MB of CSV: peak RSS %6.1f MB, %6.1f s (%6.0f records/s read and trained), "
                "test accuracy %.4f; loading it whole would take %6.1f MB"
                % (name, size, rss, seconds, records / seconds, metrics["test"]["accuracy"], load_whole_rss(data))
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    growth = rows[1] / rows[0] - 1
    met = growth <= 0.10
    print("peak RSS growth for %dx the data: %+.1f%% (target: does not grow; <= 10%%)  %s"
          % (args.repeat, 100 * growth, "ok" if met else "MISSED"))  # fmt: skip
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
