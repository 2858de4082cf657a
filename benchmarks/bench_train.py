"""End-to-end training benchmark on the IMDB training set (../shared/data/imdb).

Configurations (issue 3):
  tutorial: vocab 10,000, dim 16, seq 256, batch 32, Adam 1e-3
  large:    vocab 100,000, dim 128, seq 512, batch 256, Adam 1e-3
Model: Embedding -> GlobalAveragePooling1D -> Dense(16, relu) -> Dense(1, sigmoid).

Implementations, each in its own process (its own peak RSS, no second OpenMP runtime):
  fastembed            the engine's compiled loop, default thread count
  fastembed-1thread    the same with fastembed.set_num_threads(1)
  fastembed-lazy       Adam(embedding_updates="lazy", repeated_ids="summed"): the rule of
                       torch's SparseAdam (and fastembed 0.1's default); the default is
                       Keras' rule (dense updates caught up lazily, per-occurrence squares)
  numpy-twin           the same model layer by layer on fastembed.reference (pure NumPy)
  torch-dense          nn.Embedding + mean + Adam (idiomatic PyTorch)
  torch-bag            nn.EmbeddingBag(sparse=True) + SparseAdam, Adam for the rest
  keras                Keras 3 (TensorFlow) model.fit, from the interpreter --keras-python
                       names (a throwaway virtualenv: Keras is never a dependency)

    python benchmarks/bench_train.py                    # both configurations
    python benchmarks/bench_train.py --configs tutorial --epochs 3
    python benchmarks/bench_train.py --busy             # beside two CPU-bound processes
    python benchmarks/bench_train.py --keras-python /path/to/venv/bin/python

The tokens/s line compares fastembed with a bound: the bytes an epoch must move at least
(the ids, read twice; per step every distinct row of the table and its two Adam moments,
read and written, and read once by the forward pass), over this machine's memory
bandwidth measured in the same run (a large NumPy copy).

Seconds per epoch are medians over the timed epochs (after one warm-up epoch); slow
implementations are timed on --max-steps steps and extrapolated to a full epoch (marked *).
Targets (issue 11) are checked at the end and printed as PASS / MISS.
"""

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _timing import busy_machine  # noqa: E402

CONFIGS = {
    "tutorial": dict(vocab=10_000, dim=16, seq=256, batch=32),
    "large": dict(vocab=100_000, dim=128, seq=512, batch=256),
}
IMPLEMENTATIONS = [
    "fastembed",
    "fastembed-1thread",
    "fastembed-lazy",
    "numpy-twin",
    "torch-dense",
    "torch-bag",
    "keras",
]
TARGETS = [  # (config, faster, slower, at least this many times faster)
    ("tutorial", "fastembed", "torch-dense", 10.0),
    ("tutorial", "fastembed", "keras", 30.0),
    ("tutorial", "fastembed-lazy", "torch-dense", 10.0),
    ("tutorial", "fastembed-lazy", "keras", 30.0),
    ("large", "fastembed", "torch-bag", 25.0),
    ("large", "fastembed-lazy", "torch-bag", 25.0),
]
BUSY_TARGET = 1.2  # fastembed (default threads) / fastembed-1thread on a busy machine


def peak_rss_mb():
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    across exec, so a worker would report its parent's peak (the tokeniser's)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def data_file(config):
    """Tokenise once per configuration and cache the arrays for the worker processes."""
    path = os.path.join(tempfile.gettempdir(), "fastembed-bench-imdb-%(vocab)d-%(seq)d.npz" % config)
    if not os.path.exists(path):
        import imdb_data

        x_train, y_train, x_test, y_test, _ = imdb_data.load(config["vocab"], config["seq"])
        np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


@contextlib.contextmanager
def numpy_twin():
    """Run the model layer by layer on fastembed.reference instead of the kernels (the
    engine's compiled loop is switched off)."""
    import fastembed
    from fastembed import layers, optimizers
    from fastembed.engine import _plan

    saved = (optimizers.ops, layers.ops, _plan.COMPILED)
    optimizers.ops = layers.ops = fastembed.reference
    _plan.COMPILED = False
    try:
        yield
    finally:
        optimizers.ops, layers.ops, _plan.COMPILED = saved


def run_fastembed(data, config, epochs, max_steps, twin, threads=None, lazy=False):
    import fastembed
    from fastembed import layers
    from fastembed.optimizers import Adam

    if threads:
        fastembed.set_num_threads(threads)
    fastembed.set_random_seed(0)
    model = fastembed.Sequential(
        [
            layers.Embedding(config["vocab"], config["dim"]),
            layers.GlobalAveragePooling1D(),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    # The NumPy twin runs layer by layer: with dense updates it would update the whole
    # table every step, so it uses the lazy rule it was written as the twin of.
    optimizer = Adam(embedding_updates="lazy", repeated_ids="summed") if (lazy or twin) else "adam"
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    x, y = data["x_train"], data["y_train"]
    n = x.shape[0]
    steps = (n + config["batch"] - 1) // config["batch"]
    with numpy_twin() if twin else contextlib.nullcontext():
        if max_steps and max_steps < steps:
            # Time a prefix of an epoch and extrapolate (the twin is far too slow for more).
            count = max_steps * config["batch"]
            model.fit(x[: config["batch"] * 2], y[: config["batch"] * 2], batch_size=config["batch"], verbose=0)
            start = time.perf_counter()
            model.fit(x[:count], y[:count], batch_size=config["batch"], epochs=1, verbose=0)
            return {"seconds_per_epoch": (time.perf_counter() - start) * steps / max_steps, "extrapolated": True}
        times, accuracy = [], None
        for epoch in range(epochs + 1):  # the first epoch warms up
            start = time.perf_counter()
            model.fit(x, y, batch_size=config["batch"], epochs=1, verbose=0)
            if epoch:
                times.append(time.perf_counter() - start)
        accuracy = model.evaluate(data["x_test"], data["y_test"], batch_size=1024)[1]
    return {"seconds_per_epoch": statistics.median(times), "test_accuracy": accuracy, "epochs": epochs + 1}


def run_torch(data, config, epochs, max_steps, sparse):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1)))

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            if sparse:
                self.embedding = torch.nn.EmbeddingBag(
                    config["vocab"], config["dim"], mode="mean", sparse=True, padding_idx=None
                )
            else:
                self.embedding = torch.nn.Embedding(config["vocab"], config["dim"])
            torch.nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
            self.hidden = torch.nn.Linear(config["dim"], 16)
            self.out = torch.nn.Linear(16, 1)

        def forward(self, ids):
            if sparse:
                pooled = self.embedding(ids)  # 2-D input: each row a bag, padding included (as Keras)
            else:
                pooled = self.embedding(ids).mean(dim=1)
            return self.out(torch.relu(self.hidden(pooled))).squeeze(1)

    model = Model()
    if sparse:
        optimizers = [
            torch.optim.SparseAdam(list(model.embedding.parameters()), lr=1e-3),
            torch.optim.Adam(list(model.hidden.parameters()) + list(model.out.parameters()), lr=1e-3, eps=1e-7),
        ]
    else:
        optimizers = [torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)]
    loss_fn = torch.nn.BCEWithLogitsLoss()
    x = torch.from_numpy(data["x_train"].astype(np.int64))
    y = torch.from_numpy(data["y_train"])
    n, batch = x.shape[0], config["batch"]
    steps = (n + batch - 1) // batch
    generator = torch.Generator().manual_seed(0)

    def epoch(limit=None):
        order = torch.randperm(n, generator=generator)
        for step in range(limit or steps):
            index = order[step * batch : (step + 1) * batch]
            for opt in optimizers:
                opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[index]), y[index])
            loss.backward()
            for opt in optimizers:
                opt.step()

    if max_steps and max_steps < steps:
        epoch(2)
        start = time.perf_counter()
        epoch(max_steps)
        return {"seconds_per_epoch": (time.perf_counter() - start) * steps / max_steps, "extrapolated": True}
    times = []
    for i in range(epochs + 1):
        start = time.perf_counter()
        epoch()
        if i:
            times.append(time.perf_counter() - start)
    with torch.no_grad():
        logits = model(torch.from_numpy(data["x_test"].astype(np.int64)))
        accuracy = float(((logits > 0).float() == torch.from_numpy(data["y_test"])).float().mean())
    return {"seconds_per_epoch": statistics.median(times), "test_accuracy": accuracy, "epochs": epochs + 1}


def run_keras(data, config, epochs, max_steps):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((config["seq"],), dtype="int32"),
            keras.layers.Embedding(config["vocab"], config["dim"]),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x, y = data["x_train"], data["y_train"]
    n, batch = x.shape[0], config["batch"]
    steps = (n + batch - 1) // batch
    if max_steps and max_steps < steps:
        model.fit(x[: batch * 4], y[: batch * 4], batch_size=batch, verbose=0)
        count = max_steps * batch
        start = time.perf_counter()
        model.fit(x[:count], y[:count], batch_size=batch, epochs=1, verbose=0)
        return {"seconds_per_epoch": (time.perf_counter() - start) * steps / max_steps, "extrapolated": True}
    times = []
    for epoch in range(epochs + 1):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        if epoch:
            times.append(time.perf_counter() - start)
    accuracy = model.evaluate(data["x_test"], data["y_test"], batch_size=1024, verbose=0)[1]
    return {"seconds_per_epoch": statistics.median(times), "test_accuracy": float(accuracy), "epochs": epochs + 1}


def memory_bandwidth():
    """Bytes per second of a large NumPy copy (read + write), median of 5."""
    source = np.ones(32 << 20, dtype=np.float64)  # 256 MB
    target = np.empty_like(source)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(target, source)
        times.append(time.perf_counter() - start)
    return 2 * source.nbytes / statistics.median(times)


def epoch_bytes(x, config):
    """The least an epoch must move: ids (forward and backward), and per step every
    distinct row once for the forward pass plus the row and its two Adam moments read
    and written by the update (in file order: the shuffled order touches as many)."""
    batch, row = config["batch"], config["dim"] * 4
    distinct = sum(np.unique(x[i : i + batch]).size for i in range(0, x.shape[0], batch))
    return 2 * x.nbytes + distinct * row * (1 + 3 * 2)


def worker(args):
    config = CONFIGS[args.config]
    data = dict(np.load(data_file(config)))
    max_steps = args.max_steps if args.implementation in args.extrapolate else 0
    if args.implementation in ("fastembed", "fastembed-1thread", "fastembed-lazy", "numpy-twin"):
        result = run_fastembed(
            data,
            config,
            args.epochs,
            max_steps,
            args.implementation == "numpy-twin",
            threads=1 if args.implementation == "fastembed-1thread" else None,
            lazy=args.implementation == "fastembed-lazy",
        )
    elif args.implementation == "keras":
        result = run_keras(data, config, args.epochs, max_steps)
    else:
        result = run_torch(data, config, args.epochs, max_steps, args.implementation == "torch-bag")
    result["peak_rss_mb"] = peak_rss_mb()
    print("RESULT " + json.dumps(result))


def torch_available():
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--implementations", nargs="+", default=IMPLEMENTATIONS, choices=IMPLEMENTATIONS)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs after one warm-up epoch")
    parser.add_argument("--max-steps", type=int, default=40, help="steps timed for extrapolated runs")
    parser.add_argument(
        "--extrapolate",
        nargs="*",
        default=["numpy-twin", "large:torch-dense", "large:torch-bag", "large:keras"],
        help="implementations (or config:implementation) timed on --max-steps steps only",
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="run beside two CPU-bound processes; checks fastembed <= %.1fx its 1-thread time" % BUSY_TARGET,
    )
    parser.add_argument("--keras-python", help="a Python with Keras 3 + TensorFlow (a throwaway virtualenv)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--implementation", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    import imdb_data

    if not imdb_data.available():
        print("../shared/data/imdb is not present: nothing to benchmark")
        return 0
    import fastembed

    cfg = fastembed.show_config()
    print(
        "fastembed %s (openmp=%s, simd=%s, %d threads); NumPy %s%s"
        % (
            cfg["version"],
            cfg["openmp"],
            cfg["simd"],
            cfg["num_threads"],
            cfg["numpy"],
            "; BUSY: two CPU-bound processes running" if args.busy else "",
        )
    )
    bandwidth = memory_bandwidth()
    print("memory bandwidth (NumPy copy): %.1f GB/s" % (bandwidth / 1e9))
    rows = []
    with busy_machine(args.busy):
        for name in args.configs:
            config = CONFIGS[name]
            path = data_file(config)
            print(
                "\n== %s: vocab %d, dim %d, seq %d, batch %d =="
                % (name, config["vocab"], config["dim"], config["seq"], config["batch"]),
                flush=True,
            )
            for impl in args.implementations:
                if impl.startswith("torch") and not torch_available():
                    continue
                python = sys.executable
                if impl == "keras":
                    if not args.keras_python:
                        continue
                    python = args.keras_python
                extrapolate = [e.split(":")[-1] for e in args.extrapolate if ":" not in e or e.startswith(name + ":")]
                command = [
                    python,
                    os.path.abspath(__file__),
                    "--worker",
                    "--config",
                    name,
                    "--implementation",
                    impl,
                    "--epochs",
                    str(args.epochs),
                    "--max-steps",
                    str(args.max_steps),
                    "--extrapolate",
                ]
                command += extrapolate
                out = subprocess.run(command, capture_output=True, text=True)
                line = [text for text in out.stdout.splitlines() if text.startswith("RESULT ")]
                if out.returncode or not line:
                    print("  %-17s failed: %s" % (impl, (out.stderr.strip().splitlines() or ["?"])[-1]))
                    continue
                result = json.loads(line[-1][len("RESULT ") :])
                rows.append((name, impl, result))
                print(
                    "  %-17s %8.3f s/epoch%s  accuracy %s  peak RSS %6.0f MB"
                    % (
                        impl,
                        result["seconds_per_epoch"],
                        "*" if result.get("extrapolated") else " ",
                        "%.4f" % result["test_accuracy"] if "test_accuracy" in result else "  –   ",
                        result["peak_rss_mb"],
                    ),
                    flush=True,
                )
            base = next((r["seconds_per_epoch"] for n, i, r in rows if n == name and i == "fastembed"), None)
            if base:
                x = np.load(path)["x_train"]
                bound = epoch_bytes(x, config) / bandwidth
                print(
                    "  tokens/s: fastembed %.1fM; memory-bandwidth bound %.1fM (%.3f s/epoch); fastembed is %.1fx "
                    "the bound" % (x.size / base / 1e6, x.size / bound / 1e6, bound, base / bound)
                )
    print("\n| config | implementation | s/epoch | vs fastembed | test accuracy | peak RSS |")
    print("|---|---|---|---|---|---|")
    seconds = {(n, i): r["seconds_per_epoch"] for n, i, r in rows}
    for name in args.configs:
        base = seconds.get((name, "fastembed"))
        for n, impl, r in rows:
            if n != name:
                continue
            print(
                "| %s | %s | %.3f%s | %s | %s | %.0f MB |"
                % (
                    name,
                    impl,
                    r["seconds_per_epoch"],
                    "*" if r.get("extrapolated") else "",
                    "%.1fx" % (r["seconds_per_epoch"] / base) if base else "–",
                    "%.4f" % r["test_accuracy"] if "test_accuracy" in r else "–",
                    r["peak_rss_mb"],
                )
            )
    print()
    for name, fast, slow, factor in TARGETS:
        if (name, fast) in seconds and (name, slow) in seconds:
            ratio = seconds[(name, slow)] / seconds[(name, fast)]
            print(
                "target %-8s %s >= %.0fx %s: %.1fx %s"
                % (name, fast, factor, slow, ratio, "PASS" if ratio >= factor else "MISS")
            )
    if args.busy:
        for name in args.configs:
            if (name, "fastembed") in seconds and (name, "fastembed-1thread") in seconds:
                ratio = seconds[(name, "fastembed")] / seconds[(name, "fastembed-1thread")]
                print(
                    "target %-8s busy: default threads <= %.1fx 1 thread: %.2fx %s"
                    % (name, BUSY_TARGET, ratio, "PASS" if ratio <= BUSY_TARGET else "MISS")
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
