"""Learning quality at equal epochs: fastembed (each embedding update rule) against Keras,
trained on the very same integer ids (issue 13).

Data sets (../shared/data, see its README for the reference figures):
  r8    Reuters R8, 8 topics: vocabulary 20,000, sequences of 400,
        Embedding(V, 16, mask_zero=True) -> GlobalAveragePooling1D -> Dense(16, relu)
        -> Dense(8, softmax), sparse categorical cross-entropy, 5 epochs
  imdb  IMDB sentiment: vocabulary 10,000, sequences of 256, Embedding(V, 16)
        -> GlobalAveragePooling1D -> Dense(16, relu) -> Dense(1, sigmoid), 3 epochs
Both: Adam 1e-3, batch 32, 5 seeds; test accuracy after the last epoch.

Paired runs: for each seed both libraries start from the same initial weights (drawn by
fastembed, handed to Keras with set_weights) and see the same batches (each epoch's
order drawn from the seed, fit with shuffle=False). What differs is then the libraries'
arithmetic, not the luck of their random streams: with 5 seeds per library drawn
independently, the seed-to-seed spread on R8 (about 2 points) would hide a half-point
difference.

fastembed rules (Adam's ``embedding_updates`` x ``repeated_ids``):
  default        dense (caught up lazily) x per_occurrence: Keras' semantics
  lazy           lazy x per_occurrence
  torch          lazy x summed: torch.optim.SparseAdam's rule (the 0.1 default)
  dense-summed   dense x summed

Keras runs in its own interpreter (--keras-python, a throwaway virtualenv: Keras is never
a dependency); its results are cached in --keras-cache, keyed by data set and seed.

    python benchmarks/bench_quality.py --keras-python /path/to/venv/bin/python
    python benchmarks/bench_quality.py --datasets r8 --seeds 3 --rules default torch

Prints mean, min-max and standard deviation over the seeds and the median seconds per
epoch; checks the targets (mean within 0.5 points of Keras, spread no wider than Keras').
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir, "shared", "data"))

DATASETS = {
    "r8": dict(
        train="reuters_r8/train.tsv",
        test="reuters_r8/test.tsv",
        vocab=20_000,
        seq=400,
        mask_zero=True,
        epochs=5,
        standardize="lower_and_strip_punctuation",
    ),
    "imdb": dict(
        train="imdb/imdb_train.csv",
        test="imdb/imdb_test.csv",
        vocab=10_000,
        seq=256,
        mask_zero=False,
        epochs=3,
        standardize="lower_and_strip_html_and_punctuation",
    ),
}
RULES = {
    "default": dict(),
    "lazy": dict(embedding_updates="lazy"),
    "torch": dict(embedding_updates="lazy", repeated_ids="summed"),
    "dense-summed": dict(embedding_updates="dense", repeated_ids="summed"),
}
BATCH, DIM, HIDDEN, LEARNING_RATE = 32, 16, 16, 1e-3


def encoded(name):
    """``(x_train, y_train, x_test, y_test, classes)`` of a data set, cached as .npz."""
    spec = DATASETS[name]
    cache = os.path.join(tempfile.gettempdir(), "fastembed-quality-%s-%d-%d.npz" % (name, spec["vocab"], spec["seq"]))
    if not os.path.exists(cache):
        from fastembed.datasets import load_text_dataset
        from fastembed.text import TextVectorizer

        train = load_text_dataset(os.path.join(DATA, spec["train"]), shuffle=False)
        test = load_text_dataset(os.path.join(DATA, spec["test"]), shuffle=False, class_names=train.class_names)
        vectorizer = TextVectorizer(
            max_tokens=spec["vocab"], standardize=spec["standardize"], output_sequence_length=spec["seq"]
        ).adapt(train.texts)
        np.savez(
            cache + ".tmp.npz",
            x_train=vectorizer(train.texts),
            y_train=train.labels,
            x_test=vectorizer(test.texts),
            y_test=test.labels,
            classes=len(train.class_names),
        )
        os.replace(cache + ".tmp.npz", cache)
    with np.load(cache) as data:
        return (data["x_train"], data["y_train"], data["x_test"], data["y_test"], int(data["classes"]))


def _fastembed_model(name, classes):
    import fastembed
    from fastembed import layers

    spec, binary = DATASETS[name], classes == 2
    return fastembed.Sequential(
        [
            layers.Embedding(spec["vocab"], DIM, mask_zero=spec["mask_zero"]),
            layers.GlobalAveragePooling1D(),
            layers.Dense(HIDDEN, activation="relu"),
            layers.Dense(1 if binary else classes, activation="sigmoid" if binary else "softmax"),
        ]
    )


def initial_weights(name, seed):
    """The seed's initial weights (fastembed's initialisers, Keras' distributions),
    cached as .npz for the Keras worker; returns the path."""
    path = os.path.join(tempfile.gettempdir(), "fastembed-quality-init-%s-%d.npz" % (name, seed))
    if not os.path.exists(path):
        import fastembed

        fastembed.set_random_seed(seed)
        model = _fastembed_model(name, encoded(name)[4])
        model.build((None, DATASETS[name]["seq"]))
        np.savez(path + ".tmp.npz", *model.get_weights())
        os.replace(path + ".tmp.npz", path)
    return path


def epoch_orders(n, seed, epochs):
    """Each epoch's sample order for ``seed`` (the same for both libraries)."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


def _load_weights(path):
    with np.load(path) as data:
        return [data["arr_%d" % i] for i in range(len(data.files))]


def run_fastembed(name, rule, seed):
    from fastembed.optimizers import Adam

    spec = DATASETS[name]
    x, y, x_test, y_test, classes = encoded(name)
    binary = classes == 2
    model = _fastembed_model(name, classes)
    model.compile(
        Adam(LEARNING_RATE, **RULES[rule]),
        "binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        ["accuracy"],
    )
    model.build((None, spec["seq"]))
    model.set_weights(_load_weights(initial_weights(name, seed)))
    y = y.astype(np.float32) if binary else y
    epoch_times = []
    for order in epoch_orders(len(x), seed, spec["epochs"]):
        started = time.perf_counter()
        model.fit(x[order], y[order], batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        epoch_times.append(time.perf_counter() - started)
    _, accuracy = model.evaluate(x_test, y_test.astype(np.float32) if binary else y_test, verbose=0)
    return {"accuracy": float(accuracy), "epoch_seconds": statistics.median(epoch_times)}


def run_keras(name, seed):
    """Runs inside the Keras interpreter (``--worker keras``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    spec = DATASETS[name]
    x, y, x_test, y_test, classes = encoded(name)
    keras.utils.set_random_seed(seed)
    binary = classes == 2
    y = y.astype(np.float32) if binary else y
    model = keras.Sequential(
        [
            keras.Input((spec["seq"],), dtype="int32"),
            keras.layers.Embedding(spec["vocab"], DIM, mask_zero=spec["mask_zero"]),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(HIDDEN, activation="relu"),
            keras.layers.Dense(1 if binary else classes, activation="sigmoid" if binary else "softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        metrics=["accuracy"],
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
    )
    model.set_weights(_load_weights(initial_weights(name, seed)))
    x = x.astype(np.int32)
    epoch_times = []
    for order in epoch_orders(len(x), seed, spec["epochs"]):
        started = time.perf_counter()
        model.fit(x[order], y[order], batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        epoch_times.append(time.perf_counter() - started)
    _, accuracy = model.evaluate(x_test.astype(np.int32), y_test.astype(np.float32) if binary else y_test, verbose=0)
    return {"accuracy": float(accuracy), "epoch_seconds": statistics.median(epoch_times)}


def keras_results(python, name, seeds, cache_path):
    cache = {}
    if os.path.exists(cache_path):
        with open(cache_path) as handle:
            cache = json.load(handle)
    results = []
    for seed in seeds:
        key = "%s/%d" % (name, seed)
        if key not in cache:
            if not python:
                return None
            out = subprocess.run(
                [python, os.path.abspath(__file__), "--worker", "keras", "--datasets", name, "--seed", str(seed)],
                check=True,
                capture_output=True,
                text=True,
            )
            cache[key] = json.loads(out.stdout.strip().splitlines()[-1])
            with open(cache_path + ".tmp", "w") as handle:
                json.dump(cache, handle, indent=1)
            os.replace(cache_path + ".tmp", cache_path)
        results.append(cache[key])
    return results


def summary(results):
    accuracies = [r["accuracy"] for r in results]
    return {
        "mean": statistics.mean(accuracies),
        "min": min(accuracies),
        "max": max(accuracies),
        "std": statistics.pstdev(accuracies),
        "epoch_seconds": statistics.median(r["epoch_seconds"] for r in results),
        "accuracies": accuracies,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--rules", nargs="+", default=list(RULES), choices=list(RULES))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--keras-python", help="a Python with Keras 3 + TensorFlow (a throwaway virtualenv)")
    parser.add_argument("--keras-cache", default=os.path.join(tempfile.gettempdir(), "fastembed-quality-keras.json"))
    parser.add_argument("--worker", choices=["keras"], help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "keras":
        print(json.dumps(run_keras(args.datasets[0], args.seed)))
        return 0
    seeds = list(range(args.seeds))
    verdicts = []
    for name in args.datasets:
        if not os.path.exists(os.path.join(DATA, DATASETS[name]["train"])):
            print("%s: data not found under %s, skipped" % (name, DATA))
            continue
        encoded(name)
        for seed in seeds:
            initial_weights(name, seed)  # made here: the Keras worker cannot import fastembed
        rows = {}
        keras = keras_results(args.keras_python, name, seeds, args.keras_cache)
        if keras is not None:
            rows["keras"] = summary(keras)
        # Rules interleaved seed by seed: this machine's speed drifts over minutes, and the
        # time ratios between rules should not depend on which ran first.
        results = {rule: [] for rule in args.rules}
        for seed in seeds:
            for rule in args.rules:
                results[rule].append(run_fastembed(name, rule, seed))
        for rule in args.rules:
            rows["fastembed " + rule] = summary(results[rule])
        print("\n%s, %d epochs, %d seeds: test accuracy" % (name, DATASETS[name]["epochs"], len(seeds)))
        print("| implementation | mean | min - max | std | s/epoch | seeds |")
        print("|---|---|---|---|---|---|")
        for label, row in rows.items():
            print(
                "| %s | %.4f | %.4f - %.4f | %.4f | %.3f | %s |"
                % (
                    label,
                    row["mean"],
                    row["min"],
                    row["max"],
                    row["std"],
                    row["epoch_seconds"],
                    " ".join("%.3f" % a for a in row["accuracies"]),
                )
            )
        if "keras" in rows and "fastembed default" in rows:
            keras_row, ours = rows["keras"], rows["fastembed default"]
            gap = (keras_row["mean"] - ours["mean"]) * 100
            verdicts.append(("%s: mean within 0.5 points of Keras (%.2f points below)" % (name, gap), gap <= 0.5))
            # 0.05 points of slack: paired runs agree seed by seed to a few test examples
            # (float32 sums in another order), which can move the extremes by 1e-4.
            slack = 0.0005
            verdicts.append(
                (
                    "%s: spread no wider than Keras' (range %.4f vs %.4f)"
                    % (name, ours["max"] - ours["min"], keras_row["max"] - keras_row["min"]),
                    ours["max"] - ours["min"] <= keras_row["max"] - keras_row["min"] + slack,
                )
            )
        for other in ("lazy", "torch"):
            if "fastembed default" in rows and "fastembed " + other in rows:
                ratio = rows["fastembed default"]["epoch_seconds"] / rows["fastembed " + other]["epoch_seconds"]
                print("time per epoch, default / %s: %.3f" % (other, ratio))
                if other == "torch" and name == "imdb":  # the tutorial configuration (issue 13: <= 1.15)
                    verdicts.append(
                        (
                            "imdb (tutorial configuration): default update costs %.1f%% more time per "
                            "epoch than the 0.1 lazy update" % ((ratio - 1) * 100),
                            ratio <= 1.15,
                        )
                    )
    for text, ok in verdicts:
        print("%s %s" % ("PASS" if ok else "MISS", text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
