"""``fastembed train`` and ``fastembed demo``: data -> encoder -> tutorial model -> run directory."""

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from .. import __version__, callbacks, datasets, get_num_threads, layers, set_random_seed, threads
from .._files import atomic_write
from ..models import Sequential
from ..optimizers import Adam
from ..embeddings._keyed_vectors import _vocabulary_rows as vocabulary_rows
from ..text import SubwordEncoder, TextVectorizer
from . import _stream
from ._charts import plot_history
from ._errors import UserError
from ._run import Run


def build_encoder(source, tokenizer, vocab_size, seq_len, counts=None):
    """A TextVectorizer (words) or SubwordEncoder (subwords) learned from ``source``'s
    texts, read as a stream. ``counts``: the word counts a scan already made (with
    :func:`word_vectorizer`'s ``count_tokens``)."""
    if tokenizer == "words":
        vectorizer = word_vectorizer(vocab_size, seq_len)
        return vectorizer.adapt_counts(vectorizer.count_tokens(source.texts()) if counts is None else counts)
    return SubwordEncoder.build_from_corpus(source.texts(), target_vocab_size=vocab_size)


def word_vectorizer(vocab_size, seq_len):
    return TextVectorizer(
        max_tokens=vocab_size, standardize="lower_and_strip_html_and_punctuation", output_sequence_length=seq_len
    )


def build_model(vocab_rows, n_classes, dim, hidden, learning_rate):
    """The tutorial model: Embedding -> GlobalAveragePooling1D -> Dense(relu) -> Dense(sigmoid or softmax)."""
    binary = n_classes == 2
    model = Sequential(
        [
            layers.Embedding(vocab_rows, dim, name="embedding"),
            layers.GlobalAveragePooling1D(),
            layers.Dense(hidden, activation="relu"),
            layers.Dense(1 if binary else n_classes, activation="sigmoid" if binary else "softmax"),
        ]
    )
    model.compile(
        optimizer=Adam(learning_rate=learning_rate),
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def train(train_source, test_source, options, out, log=print, final=None, counts=None):
    """Train and write everything into ``out``; returns ``(run, metrics)``.

    ``train_source`` / ``test_source`` are :class:`_stream.Source` streams (a file, or
    data in memory), read anew each epoch. ``options`` holds tokenizer, vocab_size,
    seq_len, dim, hidden, epochs, batch_size, learning_rate, validation_split, seed and
    shuffle_buffer. ``final`` is the directory ``out`` will be renamed to (the paths
    metrics.json records), when ``out`` is a staging directory. ``counts``: the word
    counts of the scan, when it made them.
    """
    if options.seed is not None:
        set_random_seed(options.seed)
    started = time.perf_counter()
    encoder = build_encoder(train_source, options.tokenizer, options.vocab_size, options.seq_len, counts)
    vocab_rows = encoder.vocabulary_size() if options.tokenizer == "words" else encoder.vocab_size
    # The run's embedding picture (a PCA) needs two words: found out here, before training.
    tokens, reserved = vocabulary_rows(encoder)
    if len(tokens) - len(reserved) < 2:
        raise UserError(
            "the vocabulary holds %d word(s) besides the reserved ids: raise --vocab-size (a run "
            "needs at least 2 words)" % (len(tokens) - len(reserved))
        )
    model = build_model(vocab_rows, len(train_source.class_names), options.dim, options.hidden, options.learning_rate)
    run = Run(model, encoder, train_source.class_names, options.seq_len)
    run.save(out)  # the encoder and an untrained model first: a Ctrl-C still leaves a usable directory
    model_path = os.path.join(out, "model.npz")
    epochs_done = []
    checkpoint = _EpochCheckpoint(model_path, epochs_done)
    split, seed = options.validation_split, options.seed or 0
    with tempfile.TemporaryDirectory(prefix="fastembed-train-") as cache_directory:
        # The texts are parsed and encoded once, into id rows on disk that each epoch reads.
        cache = _stream.EncodedCache.write(train_source, run.encode, options.seq_len, cache_directory, seed, split)
        encode_seconds = time.perf_counter() - started
        n_train, n_validation = cache.rows["train"], cache.rows["validation"]
        if n_train == 0:
            raise UserError("the validation split left no training records: lower --validation-split")
        train_batches = _stream.batches(cache, "train", options.batch_size, seed, options.shuffle_buffer)
        validation_batches = _stream.batches(cache, "validation", options.batch_size) if n_validation else None
        log(
            "Training on %d texts, %d held out for validation (%s, vocabulary %d, %d classes, %d threads; read "
            "from %s as a stream) ..."
            % (n_train, n_validation, options.tokenizer, vocab_rows, len(train_source.class_names),
               get_num_threads(), train_source.name)
        )  # fmt: skip
        fit_started = time.perf_counter()
        try:
            history = model.fit(
                train_batches,
                epochs=options.epochs,
                validation_data=validation_batches,
                verbose=1,
                callbacks=[checkpoint],
            )
        except KeyboardInterrupt:
            # What the staging directory holds; staged_run says where it is kept.
            raise KeyboardInterrupt(
                ("the model after epoch %d" % epochs_done[-1]) if epochs_done else "the untrained model"
            ) from None
        fit_seconds = time.perf_counter() - fit_started
    metrics = {
        "fastembed_version": __version__,
        "threads": get_num_threads(),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "train_samples": n_train,
        "class_names": run.class_names,
        "timings": {
            "encode_seconds": encode_seconds,
            "fit_seconds": fit_seconds,
            "epoch_seconds": fit_seconds / max(1, len(epochs_done)),
        },
        "tokens_per_second": cache.tokens["train"] * len(epochs_done) / max(fit_seconds, 1e-9),
    }
    if "val_accuracy" in metrics["history"]:
        metrics["validation"] = {
            "accuracy": metrics["history"]["val_accuracy"][-1],
            "loss": metrics["history"]["val_loss"][-1],
        }
    if test_source is not None:
        metrics["test"] = evaluate_run(run, test_source)
    kv = run.keyed_vectors()
    vecs, meta = kv.save_projector(out)
    pictures = {
        "training": plot_history(metrics["history"], os.path.join(out, "training.png")),
        "embedding": kv.plot(
            os.path.join(out, "embedding.png"),
            limit=300,
            title="Embedding: PCA of the %d most frequent tokens" % min(300, len(kv)),
        ),
    }
    final = final or out
    metrics["files"] = {
        name: os.path.join(final, os.path.relpath(path, out))
        for name, path in {"model": model_path, "vecs": vecs, "meta": meta, **pictures}.items()
    }
    with atomic_write(os.path.join(out, "metrics.json"), encoding="utf-8") as handle:
        json.dump(metrics, handle, indent=2)
    return run, metrics


class _EpochCheckpoint(callbacks.Callback):
    """Save the model after every completed epoch, so that Ctrl-C keeps the last one."""

    def __init__(self, path, epochs_done):
        super().__init__()
        self.path, self.epochs_done = path, epochs_done

    def on_epoch_end(self, epoch, logs=None):
        self.model.save(self.path)
        self.epochs_done.append(epoch + 1)


def evaluate_run(run, source):
    """Accuracy and per-class precision/recall of ``run`` on a :class:`_stream.Source`
    (class names matched by name), scored chunk by chunk."""
    index = {name: i for i, name in enumerate(run.class_names)}
    unknown = sorted(set(source.class_names) - set(index))
    if unknown:
        raise UserError(
            "the data has classes the model does not know: %s (model classes: %s)"
            % (", ".join(unknown), ", ".join(run.class_names))
        )
    to_model = np.array([index[name] for name in source.class_names])
    n = len(run.class_names)
    confusion = np.zeros((n, n), np.int64)  # truth x predicted
    for chunk in source.chunks():
        truth = to_model[[label for _, label in chunk]]
        predicted = np.argmax(run.probabilities([text for text, _ in chunk]), axis=1)
        np.add.at(confusion, (truth, predicted), 1)
    per_class = {}
    for i, name in enumerate(run.class_names):
        per_class[name] = {
            "precision": int(confusion[i, i]) / max(1, int(confusion[:, i].sum())),
            "recall": int(confusion[i, i]) / max(1, int(confusion[i].sum())),
            "support": int(confusion[i].sum()),
        }
    total = int(confusion.sum())
    return {"accuracy": float(np.trace(confusion)) / max(1, total), "samples": total, "per_class": per_class}


def load_data(path, args, count_tokens=None):
    """Scan a data file (``fastembed.datasets.TextRecords`` with the command's column
    options): a :class:`_stream.Source` over it, and the word counts when asked."""
    if not os.path.exists(path):
        raise UserError("%s does not exist" % path)
    return _stream.scan_file(path, args, count_tokens)


@contextlib.contextmanager
def staged_run(directory, overwrite):
    """A staging directory beside ``directory`` for a new run, swapped in when complete.

    An existing run is replaced only with ``overwrite``, and only once the new one is
    whole: a failure or Ctrl-C leaves it as it was. What was trained before a Ctrl-C is
    kept, as the run's checkpoints allow: in ``directory`` for a first run, in
    ``directory + ".interrupted"`` (replacing an earlier one) for a retrain.
    """
    directory = os.path.abspath(directory)
    existed = os.path.exists(directory)
    if existed and not overwrite:
        raise UserError(
            "%s already exists: pass --overwrite to replace it (the new run replaces it only once complete)" % directory
        )
    if existed and not os.path.isdir(directory):
        raise UserError("%s exists and is not a directory" % directory)
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".%s." % os.path.basename(directory), suffix=".partial", dir=parent)
    try:
        yield staging
    except KeyboardInterrupt as exc:
        if not os.path.exists(os.path.join(staging, "run.json")):  # interrupted before anything was trained
            shutil.rmtree(staging, ignore_errors=True)
            if existed:
                raise KeyboardInterrupt("interrupted; the previous run in %s is unchanged" % directory) from None
            raise
        kept = str(exc) or "the partial run"
        if not existed:
            os.replace(staging, directory)
            raise KeyboardInterrupt("training interrupted; %s kept in %s" % (kept, directory)) from None
        # A retrain keeps both: the old run where it was, the partial one beside it.
        partial = directory + ".interrupted"
        if os.path.isdir(partial):
            shutil.rmtree(partial, ignore_errors=True)  # the partial run of an earlier interruption
        os.replace(staging, partial)
        raise KeyboardInterrupt(
            "training interrupted; the previous run in %s is unchanged, %s is kept in %s" % (directory, kept, partial)
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if existed:
        retired = tempfile.mkdtemp(prefix=".%s." % os.path.basename(directory), suffix=".old", dir=parent)
        os.replace(directory, os.path.join(retired, "run"))
        os.replace(staging, directory)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, directory)


def _fixed_mmap_threshold():
    """Let large freed arrays go back to the system (glibc only).

    glibc raises its mmap threshold each time a large block is freed, up to 32 MB, so the
    id blocks and shuffle buckets an epoch allocates and frees end up on the heap, where
    fragmentation grows the process with the number of epochs and records (+26% peak RSS
    on IMDB x10 against x1; +6% with the threshold fixed at its default of 128 kB, as
    ``MALLOC_MMAP_THRESHOLD_`` would). The command owns its process, so it may set this;
    the library never does."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def command_train(args, out=print):
    _fixed_mmap_threshold()
    counter = word_vectorizer(args.vocab_size, args.seq_len).count_tokens if args.tokenizer == "words" else None
    train_source, counts = load_data(args.data, args, counter)
    test_source = load_data(args.test, args)[0] if args.test else None
    if test_source is not None:
        # Checked before training, not after it (when the run would already be written).
        unknown = sorted(set(test_source.class_names) - set(train_source.class_names))
        if unknown:
            raise UserError(
                "the test data has classes the training data does not: %s (training classes: %s)"
                % (", ".join(unknown), ", ".join(train_source.class_names))
            )
    with threads(args.threads or get_num_threads()), staged_run(args.out, args.overwrite) as staging:
        _, metrics = train(
            train_source, test_source, args, staging, log=out, final=os.path.abspath(args.out),
            counts=counts if args.tokenizer == "words" else None,
        )  # fmt: skip
    _report(metrics, args.out, out)
    return 0


def _report(metrics, directory, out):
    if "validation" in metrics:
        out("Validation accuracy: %.4f" % metrics["validation"]["accuracy"])
    if "test" in metrics:
        out("Test accuracy: %.4f (%d texts)" % (metrics["test"]["accuracy"], metrics["test"]["samples"]))
    out(
        "Wrote to %s/: model.npz, encoder, run.json, metrics.json, vecs.tsv + meta.tsv, %s, %s"
        % (directory, os.path.basename(metrics["files"]["training"]), os.path.basename(metrics["files"]["embedding"]))
    )


DEMO_WORDS = ["superb", "awful", "okay", "paris", "tokyo", "lima"]


def command_demo(args, out=print):
    data = datasets.make_demo_reviews(args.samples, seed=args.seed)
    train_data, test_data = datasets.split_dataset(data, 0.2, seed=args.seed)
    out(
        "Demo: %d generated star-rated reviews (synthetic text from templates: sentiment words, filler "
        "and planted country-capital pairs such as 'paris france'), e.g.:" % len(data.texts)
    )
    for text, label in zip(train_data.texts[:2], train_data.labels[:2]):
        out("  [%s] %s" % (data.class_names[label], text))
    # The demo regenerates its own directory: replacing it loses nothing.
    with threads(args.threads or get_num_threads()), staged_run(args.out, overwrite=True) as staging:
        run, metrics = train(
            _stream.Source.from_dataset(train_data, "the demo reviews"),
            _stream.Source.from_dataset(test_data, "the demo test reviews"),
            args, staging, log=out, final=os.path.abspath(args.out),
        )  # fmt: skip
    _report(metrics, args.out, out)
    kv = run.keyed_vectors()
    out("\nNearest neighbours in the learned embedding (cosine):")
    for word in DEMO_WORDS:
        out("  %-8s -> %s" % (word, ", ".join("%s %.2f" % (w, s) for w, s in kv.most_similar(word, topn=4))))
    pairs = datasets.demo_planted_pairs()
    found = sum(kv.most_similar(capital, topn=1)[0][0] == country for country, capital in pairs)
    out("Planted pairs: %d of %d capitals have their country as nearest neighbour." % (found, len(pairs)))
    out("Load %s/vecs.tsv and meta.tsv at https://projector.tensorflow.org to explore it." % args.out)
    return 0
