"""Kernel benchmarks: fastembed.ops against its NumPy twin and, when importable, PyTorch.

Standard workload (issue 2): a table of V = 100,000 rows, batch 256 x seq 256 padded with
0, bag lengths uniform in [64, 256], ids Zipf(1.1) over [1, V). Every figure is the
median of repeated runs, and every ratio compares timings taken in this same run.

    python benchmarks/bench_kernels.py                 # dim 64
    python benchmarks/bench_kernels.py --dims 16 64 128 512
    python benchmarks/bench_kernels.py --check         # exit 1 if a target is missed
"""

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

import fastembed
from fastembed import ops, reference

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # PyTorch is optional: its columns are left out
    torch = None


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
    grad = rng.standard_normal((batch, dim)).astype(np.float32)
    return {"weights": weights, "ids": ids.astype(np.int64), "flat": flat.astype(np.int64),
            "offsets": offsets.astype(np.int64), "grad": grad}


def median_time(fn, repeats, setup=None, min_time=0.0):
    """Median wall time of ``fn()`` over ``repeats`` runs (after one warm-up).

    ``setup`` (untimed) runs before each call and its result is passed to ``fn``.
    """
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
    parts = ["%s, %d cores" % (cpu, os.cpu_count() or 1), "Python %s" % platform.python_version(),
             "NumPy %s (%s)" % (cfg["numpy"], cfg["blas"]),
             "fastembed %s (compiled=%s, openmp=%s)" % (cfg["version"], cfg["compiled"], cfg["openmp"])]
    if torch is not None:
        parts.append("PyTorch %s" % torch.__version__)
    return "; ".join(parts)


class Table:
    """Collects rows of (operation, implementation, seconds) and prints them with ratios."""

    def __init__(self):
        self.rows = []

    def add(self, op, impl, seconds):
        self.rows.append((op, impl, seconds))
        print("  %-34s %-40s %9.3f ms" % (op, impl, seconds * 1e3), flush=True)

    def get(self, op, impl):
        for row_op, row_impl, seconds in self.rows:
            if row_op == op and row_impl == impl:
                return seconds
        return None


def bench_dim(dim, repeats, all_threads, table):
    w = make_workload(dim=dim)
    weights, ids, flat, offsets, grad = w["weights"], w["ids"], w["flat"], w["offsets"], w["grad"]
    ids32 = ids.astype(np.int32)
    label = "dim %d" % dim
    print("\n== %s (V=%d, batch %d x seq %d, %d real ids) ==" % (
        label, weights.shape[0], ids.shape[0], ids.shape[1], flat.shape[0]))

    # -- forward: embedding_bag, mean --------------------------------------------------
    op = "%s bag mean forward" % label
    for n in sorted({1, all_threads}):
        with fastembed.threads(n):
            table.add(op, "fastembed padded int64, %d thr" % n,
                      median_time(lambda: ops.embedding_bag(weights, ids, padding_idx=0), repeats))
    with fastembed.threads(all_threads):
        table.add(op, "fastembed padded int32, %d thr" % all_threads,
                  median_time(lambda: ops.embedding_bag(weights, ids32, padding_idx=0), repeats))
        table.add(op, "fastembed ragged, %d thr" % all_threads,
                  median_time(lambda: ops.embedding_bag(weights, flat, offsets), repeats))
    table.add(op, "numpy twin padded",
              median_time(lambda: reference.embedding_bag(weights, ids, padding_idx=0), max(3, repeats // 5)))
    if torch is not None:
        tw = torch.from_numpy(weights)
        t_ids, t_flat, t_off = torch.from_numpy(ids), torch.from_numpy(flat), torch.from_numpy(offsets[:-1])
        with torch.no_grad():
            table.add(op, "torch F.embedding_bag ragged",
                      median_time(lambda: F.embedding_bag(t_flat, tw, t_off, mode="mean"), repeats))
            table.add(op, "torch F.embedding_bag padded+padding_idx",
                      median_time(lambda: F.embedding_bag(t_ids, tw, mode="mean", padding_idx=0), repeats))

    # -- forward: lookup ---------------------------------------------------------------
    op = "%s lookup forward" % label
    with fastembed.threads(all_threads):
        table.add(op, "fastembed, %d thr" % all_threads,
                  median_time(lambda: ops.embedding_lookup(weights, ids), repeats))
    table.add(op, "numpy twin", median_time(lambda: reference.embedding_lookup(weights, ids), repeats))
    if torch is not None:
        with torch.no_grad():
            table.add(op, "torch F.embedding", median_time(lambda: F.embedding(t_ids, tw), repeats))

    # -- backward alone ----------------------------------------------------------------
    op = "%s bag mean backward" % label
    for n in sorted({1, all_threads}):
        with fastembed.threads(n):
            table.add(op, "fastembed -> SparseRows, %d thr" % n, median_time(
                lambda: ops.embedding_bag_backward(grad, ids, padding_idx=0, num_rows=weights.shape[0]),
                repeats))
    table.add(op, "numpy twin", median_time(
        lambda: reference.embedding_bag_backward(grad, ids, padding_idx=0, num_rows=weights.shape[0]),
        max(3, repeats // 5)))

    # -- backward + lazy Adam ----------------------------------------------------------
    op = "%s bag backward + lazy Adam" % label
    for n in sorted({1, all_threads}):
        with fastembed.threads(n):
            table_copy, adam = weights.copy(), fastembed.SparseAdam()
            table.add(op, "fastembed fused, %d thr" % n, median_time(
                lambda: ops.embedding_bag_backward_update(table_copy, grad, ids, padding_idx=0,
                                                          optimizer=adam), repeats))
    with fastembed.threads(all_threads):
        table_copy, adam = weights.copy(), fastembed.SparseAdam()

        def unfused():
            rows = ops.embedding_bag_backward(grad, ids, padding_idx=0, weights=table_copy)
            ops.sparse_update(table_copy, rows, adam)

        table.add(op, "fastembed backward + sparse_update, %d thr" % all_threads, median_time(unfused, repeats))
    table_copy, adam = weights.copy(), fastembed.SparseAdam()
    table.add(op, "numpy twin", median_time(
        lambda: reference.embedding_bag_backward_update(table_copy, grad, ids, padding_idx=0, optimizer=adam),
        max(3, repeats // 5)))
    if torch is not None:
        param = torch.nn.Parameter(torch.from_numpy(weights.copy()))
        opt = torch.optim.SparseAdam([param], lr=1e-3)
        t_grad = torch.from_numpy(grad)

        def torch_forward(padded):
            if padded:
                return F.embedding_bag(t_ids, param, mode="mean", padding_idx=0, sparse=True)
            return F.embedding_bag(t_flat, param, t_off, mode="mean", sparse=True)

        def torch_step(out):
            out.backward(t_grad)
            opt.step()
            opt.zero_grad(set_to_none=True)

        table.add(op, "torch sparse backward + SparseAdam (ragged)",
                  median_time(torch_step, repeats, setup=lambda: torch_forward(False)))
        table.add(op, "torch sparse backward + SparseAdam (padded)",
                  median_time(torch_step, repeats, setup=lambda: torch_forward(True)))


TARGETS = [
    # (description, numerator (slower), denominator (fastembed), required ratio)
    ("bag forward padded >= 15x NumPy twin",
     ("bag mean forward", "numpy twin padded"), ("bag mean forward", "fastembed padded int64, {all} thr"), 15.0),
    ("bag forward padded >= torch ragged",
     ("bag mean forward", "torch F.embedding_bag ragged"), ("bag mean forward", "fastembed padded int64, {all} thr"), 1.0),
    ("bag forward ragged >= torch ragged",
     ("bag mean forward", "torch F.embedding_bag ragged"), ("bag mean forward", "fastembed ragged, {all} thr"), 1.0),
    ("backward + Adam >= 5x torch sparse + SparseAdam",
     ("bag backward + lazy Adam", "torch sparse backward + SparseAdam (ragged)"),
     ("bag backward + lazy Adam", "fastembed fused, {all} thr"), 5.0),
    ("backward + Adam >= 20x NumPy twin",
     ("bag backward + lazy Adam", "numpy twin"), ("bag backward + lazy Adam", "fastembed fused, {all} thr"), 20.0),
    ("forward 1 -> {all} threads >= 1.6x",
     ("bag mean forward", "fastembed padded int64, 1 thr"), ("bag mean forward", "fastembed padded int64, {all} thr"), 1.6),
]


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
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None, help="'all threads' (default: all cores)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed (dim 64)")
    args = parser.parse_args(argv)

    all_threads = args.threads or fastembed.get_num_threads()
    if torch is not None:
        torch.set_num_threads(all_threads)
    print(machine_description())
    table = Table()
    for dim in args.dims:
        bench_dim(dim, args.repeats, all_threads, table)
    missed = 0
    for dim in args.dims:
        if dim == 64:
            missed += report_targets(table, dim, all_threads)
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
