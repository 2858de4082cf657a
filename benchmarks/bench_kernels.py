"""Kernel benchmarks: fastembed.ops against its NumPy twin and, when importable, PyTorch.

Standard workload (issue 2): a table of V = 100,000 rows, batch 256 x seq 256 padded with
0, bag lengths uniform in [64, 256], ids Zipf(1.1) over [1, V). Every figure is the
median of repeated runs, and every ratio compares timings taken in this same run.

PyTorch is timed in a child process started by this run: PyTorch ships its own OpenMP
runtime, and two runtimes in one process leave idle threads spinning on the cores the other
one needs (measured here: fastembed's forward 0.18 ms alone, 0.27 ms beside PyTorch).

    python benchmarks/bench_kernels.py                 # dim 64
    python benchmarks/bench_kernels.py --dims 16 64 128 512
    python benchmarks/bench_kernels.py --check         # exit 1 if a target is missed
"""

import argparse
import json
import os
import subprocess
import platform
import statistics
import sys
import time

import numpy as np

import fastembed
from fastembed import ops, reference
from fastembed._kernels import _forward


def torch_available():
    """True when PyTorch can be imported (checked without importing it here)."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def make_workload(num_rows=100_000, dim=64, batch=256, seq=256, min_len=64, zipf_a=1.1, seed=0):
    """The standard workload: padded 2-D ids, the same bags as flat ids + offsets, a table.

    Returns
    -------
    dict with ``weights`` (float32), ``ids`` (batch, seq) int64 padded with 0, ``flat`` and
    ``offsets`` (the ragged form), ``grad`` (batch, dim) float32.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, seq + 1, size=batch)
    ranks = rng.zipf(zipf_a, size=(batch, seq))
    # Zipf ranks are unbounded: fold the tail back into [1, num_rows) to keep the shape.
    ids = (ranks - 1) % (num_rows - 1) + 1
    ids[np.arange(seq)[None, :] >= lengths[:, None]] = 0
    flat = np.concatenate([row[:n] for row, n in zip(ids, lengths)])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    weights = rng.uniform(-0.05, 0.05, size=(num_rows, dim)).astype(np.float32)
    # Touch every page now, so that no timed call pays for first-touch faults or for the
    # kernel collapsing fresh pages into huge pages.
    weights += 0
    grad = rng.standard_normal((batch, dim)).astype(np.float32)
    return {
        "weights": weights,
        "ids": ids.astype(np.int64),
        "flat": flat.astype(np.int64),
        "offsets": offsets.astype(np.int64),
        "grad": grad,
    }


def median_time(fn, repeats, setup=None, warmup=3):
    """Median wall time of ``fn()`` over ``repeats`` runs (after ``warmup`` untimed runs).

    ``setup`` (untimed) runs before each call and its result is passed to ``fn``.
    """
    for _ in range(warmup):
        state = setup() if setup else None
        fn(state) if setup else fn()
    times = []
    while len(times) < repeats:
        state = setup() if setup else None
        start = time.perf_counter()
        fn(state) if setup else fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine_description():
    cfg = fastembed.show_config()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [
        "%s, %d cores" % (cpu, os.cpu_count() or 1),
        "Python %s" % platform.python_version(),
        "NumPy %s (%s)" % (cfg["numpy"], cfg["blas"]),
        "fastembed %s (compiled=%s, openmp=%s)" % (cfg["version"], cfg["compiled"], cfg["openmp"]),
    ]
    if torch_available():
        from importlib.metadata import version

        parts.append("PyTorch %s" % version("torch"))
    return "; ".join(parts)


class Table:
    """Timings of (operation, implementation), one per round; reports the median over
    rounds. Rounds interleave all implementations, so slow drift of the machine (shared
    memory bandwidth here) affects each of them alike."""

    def __init__(self):
        self.samples = {}

    def add(self, op, impl, seconds):
        self.samples.setdefault((op, impl), []).append(seconds)

    @property
    def rows(self):
        return [(op, impl, statistics.median(values)) for (op, impl), values in self.samples.items()]

    def get(self, op, impl):
        values = self.samples.get((op, impl))
        return statistics.median(values) if values else None


def bench_dim(dim, repeats, all_threads, table):
    w = make_workload(dim=dim)
    weights, ids, flat, offsets, grad = w["weights"], w["ids"], w["flat"], w["offsets"], w["grad"]
    ids32 = ids.astype(np.int32)
    label = "dim %d" % dim

    # -- forward: embedding_bag, mean --------------------------------------------------
    op = "%s bag mean forward" % label
    for n in sorted({1, all_threads}):
        with fastembed.threads(n):
            table.add(
                op,
                "fastembed padded int64, %d thr" % n,
                median_time(lambda: ops.embedding_bag(weights, ids, padding_idx=0), repeats),
            )
    with fastembed.threads(all_threads):
        table.add(
            op,
            "fastembed padded int32, %d thr" % all_threads,
            median_time(lambda: ops.embedding_bag(weights, ids32, padding_idx=0), repeats),
        )
        table.add(
            op,
            "fastembed ragged, %d thr" % all_threads,
            median_time(lambda: ops.embedding_bag(weights, flat, offsets), repeats),
        )
    # The fused AVX2 bag sum (_bagsum.h) against the generic path it replaces where it applies.
    previous = _forward.set_fused_bag_sum(False)
    try:
        for n in sorted({1, all_threads}):
            with fastembed.threads(n):
                table.add(
                    op,
                    "fastembed padded, generic bag sum, %d thr" % n,
                    median_time(lambda: ops.embedding_bag(weights, ids, padding_idx=0), repeats),
                )
    finally:
        _forward.set_fused_bag_sum(previous)
    table.add(
        op,
        "numpy twin padded",
        median_time(lambda: reference.embedding_bag(weights, ids, padding_idx=0), max(3, repeats // 5)),
    )
    # -- forward: lookup ---------------------------------------------------------------
    op = "%s lookup forward" % label
    with fastembed.threads(all_threads):
        table.add(
            op, "fastembed, %d thr" % all_threads, median_time(lambda: ops.embedding_lookup(weights, ids), repeats)
        )
    table.add(op, "numpy twin", median_time(lambda: reference.embedding_lookup(weights, ids), repeats))
    # -- backward alone ----------------------------------------------------------------
    op = "%s bag mean backward" % label
    for n in sorted({1, all_threads}):
        with fastembed.threads(n):
            table.add(
                op,
                "fastembed -> SparseRows, %d thr" % n,
                median_time(
                    lambda: ops.embedding_bag_backward(grad, ids, padding_idx=0, num_rows=weights.shape[0]), repeats
                ),
            )
    table.add(
        op,
        "numpy twin",
        median_time(
            lambda: reference.embedding_bag_backward(grad, ids, padding_idx=0, num_rows=weights.shape[0]),
            max(3, repeats // 5),
        ),
    )

    # -- backward + lazy Adam ----------------------------------------------------------
    op = "%s bag backward + lazy Adam" % label
    for n in sorted({1, all_threads}):
        with fastembed.threads(n):
            table_copy, adam = weights.copy(), fastembed.SparseAdam()
            table.add(
                op,
                "fastembed fused, %d thr" % n,
                median_time(
                    lambda: ops.embedding_bag_backward_update(table_copy, grad, ids, padding_idx=0, optimizer=adam),
                    repeats,
                ),
            )
    with fastembed.threads(all_threads):
        table_copy, adam = weights.copy(), fastembed.SparseAdam()

        def unfused():
            rows = ops.embedding_bag_backward(grad, ids, padding_idx=0, weights=table_copy)
            ops.sparse_update(table_copy, rows, adam)

        table.add(op, "fastembed backward + sparse_update, %d thr" % all_threads, median_time(unfused, repeats))
    table_copy, adam = weights.copy(), fastembed.SparseAdam()
    table.add(
        op,
        "numpy twin",
        median_time(
            lambda: reference.embedding_bag_backward_update(table_copy, grad, ids, padding_idx=0, optimizer=adam),
            max(3, repeats // 5),
        ),
    )


def torch_timings(dim, repeats, num_threads):
    """PyTorch's side of :func:`bench_dim` (run in a child process): {(op, impl): seconds}."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(num_threads)
    w = make_workload(dim=dim)
    weights, ids, flat, offsets, grad = w["weights"], w["ids"], w["flat"], w["offsets"], w["grad"]
    label = "dim %d" % dim
    tw, t_ids = torch.from_numpy(weights), torch.from_numpy(ids)
    t_flat, t_off = torch.from_numpy(flat), torch.from_numpy(offsets[:-1])
    out = {}
    with torch.no_grad():
        out[(label + " bag mean forward", "torch F.embedding_bag ragged")] = median_time(
            lambda: F.embedding_bag(t_flat, tw, t_off, mode="mean"), repeats
        )
        out[(label + " bag mean forward", "torch F.embedding_bag padded+padding_idx")] = median_time(
            lambda: F.embedding_bag(t_ids, tw, mode="mean", padding_idx=0), repeats
        )
        out[(label + " lookup forward", "torch F.embedding")] = median_time(lambda: F.embedding(t_ids, tw), repeats)

    param = torch.nn.Parameter(torch.from_numpy(weights.copy()))
    opt = torch.optim.SparseAdam([param], lr=1e-3)
    t_grad = torch.from_numpy(grad)

    def forward(padded):
        if padded:
            return F.embedding_bag(t_ids, param, mode="mean", padding_idx=0, sparse=True)
        return F.embedding_bag(t_flat, param, t_off, mode="mean", sparse=True)

    def step(pooled):
        pooled.backward(t_grad)
        opt.step()
        opt.zero_grad(set_to_none=True)

    op = label + " bag backward + lazy Adam"
    out[(op, "torch sparse backward + SparseAdam (ragged)")] = median_time(step, repeats, setup=lambda: forward(False))
    out[(op, "torch sparse backward + SparseAdam (padded)")] = median_time(step, repeats, setup=lambda: forward(True))
    return out


def run_torch_worker(dims, repeats, num_threads):
    """Time PyTorch in a fresh process and return its rows, or {} without PyTorch."""
    if not torch_available():
        return {}
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--torch-worker",
        "--repeats",
        str(repeats),
        "--threads",
        str(num_threads),
        "--dims",
    ] + [str(d) for d in dims]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    rows = {}
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            rows[(record["op"], record["impl"])] = record["seconds"]
    return rows


TARGETS = [
    # (description, numerator (slower), denominator (fastembed), required ratio)
    (
        "bag forward padded >= 15x NumPy twin",
        ("bag mean forward", "numpy twin padded"),
        ("bag mean forward", "fastembed padded int64, {all} thr"),
        15.0,
    ),
    (
        "bag forward padded >= torch ragged",
        ("bag mean forward", "torch F.embedding_bag ragged"),
        ("bag mean forward", "fastembed padded int64, {all} thr"),
        1.0,
    ),
    (
        "bag forward ragged >= torch ragged",
        ("bag mean forward", "torch F.embedding_bag ragged"),
        ("bag mean forward", "fastembed ragged, {all} thr"),
        1.0,
    ),
    (
        "backward + Adam >= 5x torch sparse + SparseAdam",
        ("bag backward + lazy Adam", "torch sparse backward + SparseAdam (ragged)"),
        ("bag backward + lazy Adam", "fastembed fused, {all} thr"),
        5.0,
    ),
    (
        "backward + Adam >= 20x NumPy twin",
        ("bag backward + lazy Adam", "numpy twin"),
        ("bag backward + lazy Adam", "fastembed fused, {all} thr"),
        20.0,
    ),
    (
        "forward 1 -> {all} threads >= 1.6x",
        ("bag mean forward", "fastembed padded int64, 1 thr"),
        ("bag mean forward", "fastembed padded int64, {all} thr"),
        1.6,
    ),
]


def report_ratios(table, all_threads):
    """For every operation: each implementation's time over fastembed's (all threads)."""
    print("\n== ratios: time / fastembed's time, %d threads (higher = fastembed faster) ==" % all_threads)
    ops_seen = []
    for op, _, _ in table.rows:
        if op not in ops_seen:
            ops_seen.append(op)
    for op in ops_seen:
        rows = [(impl, sec) for row_op, impl, sec in table.rows if row_op == op]
        ours = [sec for impl, sec in rows if impl.startswith("fastembed") and impl.endswith("%d thr" % all_threads)]
        if not ours:
            continue
        base = ours[0]
        print("  " + op)
        for impl, sec in rows:
            print("      %-44s %8.3f ms  %6.2fx" % (impl, sec * 1e3, sec / base))


MARKDOWN_COLUMNS = [
    # (column title, implementation names that fill it, first match wins)
    (
        "fastembed, {all} threads",
        [
            "fastembed padded int64, {all} thr",
            "fastembed, {all} thr",
            "fastembed -> SparseRows, {all} thr",
            "fastembed fused, {all} thr",
        ],
    ),
    (
        "fastembed, 1 thread",
        ["fastembed padded int64, 1 thr", "fastembed -> SparseRows, 1 thr", "fastembed fused, 1 thr"],
    ),
    ("fastembed ragged", ["fastembed ragged, {all} thr"]),
    ("NumPy twin", ["numpy twin padded", "numpy twin"]),
    (
        "PyTorch ragged",
        ["torch F.embedding_bag ragged", "torch F.embedding", "torch sparse backward + SparseAdam (ragged)"],
    ),
    ("PyTorch padded", ["torch F.embedding_bag padded+padding_idx", "torch sparse backward + SparseAdam (padded)"]),
]


def markdown_table(rows, all_threads):
    """README table: one line per operation, ms with the ratio to fastembed (all threads)."""
    by_op = {}
    for op, impl, seconds in rows:
        by_op.setdefault(op, {})[impl] = seconds
    titles = [title.format(all=all_threads) for title, _ in MARKDOWN_COLUMNS]
    lines = ["| operation | " + " | ".join(titles) + " |", "|---" * (len(titles) + 1) + "|"]
    for op, impls in by_op.items():
        cells = []
        for _, names in MARKDOWN_COLUMNS:
            value = next((impls[n.format(all=all_threads)] for n in names if n.format(all=all_threads) in impls), None)
            cells.append(value)
        base = cells[0]
        text = []
        for i, value in enumerate(cells):
            if value is None:
                text.append("–")
            elif i == 0 or base is None:
                text.append("%.3f ms" % (value * 1e3))
            else:
                text.append("%.3f ms (%.1fx)" % (value * 1e3, value / base))
        lines.append("| %s | %s |" % (op, " | ".join(text)))
    return "\n".join(lines)


def report_targets(table, dim, all_threads):
    print("\n== targets (dim %d, all threads = %d) ==" % (dim, all_threads))
    missed = 0
    for description, (op_a, impl_a), (op_b, impl_b), required in TARGETS:
        prefix = "dim %d " % dim
        slow = table.get(prefix + op_a, impl_a.format(all=all_threads))
        fast = table.get(prefix + op_b, impl_b.format(all=all_threads))
        if slow is None or fast is None:
            print("  %-50s  n/a (not measured)" % description.format(all=all_threads))
            continue
        ratio = slow / fast
        ok = ratio >= required
        missed += not ok
        print("  %-50s  %6.2fx  %s" % (description.format(all=all_threads), ratio, "ok" if ok else "MISSED"))
    return missed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", type=int, nargs="+", default=[64])
    parser.add_argument("--repeats", type=int, default=30, help="runs per median")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median of medians)")
    parser.add_argument("--threads", type=int, default=None, help="'all threads' (default: all cores)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed (dim 64)")
    parser.add_argument("--markdown", action="store_true", help="also print the README table")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    all_threads = args.threads or fastembed.get_num_threads()
    if args.torch_worker:
        for dim in args.dims:
            for (op, impl), seconds in torch_timings(dim, args.repeats, all_threads).items():
                print(json.dumps({"op": op, "impl": impl, "seconds": seconds}))
        return 0
    print(machine_description())
    print(
        "Workload: V=100,000, batch 256 x seq 256 padded with 0, lengths U[64, 256], ids Zipf(1.1); "
        "medians of %d runs, median over %d interleaved rounds; PyTorch in its own process."
        % (args.repeats, args.rounds)
    )
    table = Table()
    for round_number in range(args.rounds):
        print("round %d/%d ..." % (round_number + 1, args.rounds), flush=True)
        for dim in args.dims:
            bench_dim(dim, args.repeats, all_threads, table)
        for (op, impl), seconds in run_torch_worker(args.dims, args.repeats, all_threads).items():
            table.add(op, impl, seconds)
    report_ratios(table, all_threads)
    if args.markdown:
        print("\n" + markdown_table(table.rows, all_threads))
    missed = 0
    for dim in args.dims:
        if dim == 64:  # the targets are set on the standard workload
            missed += report_targets(table, dim, all_threads)
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
