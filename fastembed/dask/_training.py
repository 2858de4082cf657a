"""Data-parallel training over Dask workers: model replicas that train on their own
partitions and are averaged, row by row, every ``sync_every`` steps (local SGD, as
Spark MLlib's and pWord2Vec's model averaging).

The driver (this process) holds the global model. Each replica lives in one worker
process (``_REPLICAS``), loaded once from the model's own file format. A round is one
task per replica: it writes the previous sync's combined rows into its model, trains on
its next rows, and returns the rows it changed (``_sync``). Partitions are read where
their replica runs, a round ahead, and dropped when their rows are used: a worker holds
at most a few partitions, whatever the size of the collection.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _sync
from ._shipping import _dask, _decode, _payload

if TYPE_CHECKING:
    from ..callbacks import History

# (job, replica) -> _Replica, in each worker process.
_REPLICAS: dict = {}
_REPLICAS_LOCK = threading.Lock()


# -- what a replica is ---------------------------------------------------------------------
class _ModelReplica:
    """A Sequential replica: trains with ``fit`` on the rows of a round, in their order."""

    averaged_logs = True  # loss and metrics: epoch means, weighted by rows

    def __init__(self, model, settings):
        self.model = model
        if settings["scale_learning_rate"]:
            model.optimizer.learning_rate *= settings["replicas"]

    @staticmethod
    def arrays_of(model):
        # The layers' own arrays (the engine updates them in place).
        return [w for layer in model.layers for w in layer.weights]

    def train(self, frames, settings):
        x_column, y_column = settings["x"], settings["y"]
        x = np.concatenate([frame[x_column].to_numpy() for frame in frames])
        y = np.concatenate([frame[y_column].to_numpy() for frame in frames])
        history = self.model.fit(x, y, batch_size=settings["batch_size"], epochs=1, shuffle=False, verbose=0)
        return {key: float(values[-1]) for key, values in history.history.items()}, len(y)


class _Word2VecReplica:
    """A Word2Vec / FastText replica: trains on a round's sentences with the learning rate
    the whole run's linear schedule gives at that point."""

    averaged_logs = False  # word counts: epoch sums

    def __init__(self, model, settings):
        self.model = model
        # Replicas draw different negatives and subsampling coins.
        model.seed = int(np.random.default_rng([model.seed, settings["replica"]]).integers(2**31))
        if settings["scale_learning_rate"]:
            model.alpha *= settings["replicas"]
            model.min_alpha *= settings["replicas"]

    @staticmethod
    def arrays_of(model):
        return [model.syn1neg] + list(model._arrays().values())

    def train(self, frames, settings):
        sentences = [_tokens(sentence) for frame in frames for sentence in frame]
        first, last = settings["progress"]
        start = self.model.alpha - (self.model.alpha - self.model.min_alpha) * first
        end = self.model.alpha - (self.model.alpha - self.model.min_alpha) * last
        words = sum(len(sentence) for sentence in sentences)
        if not words:
            return {}, 0
        effective, raw = self.model.train(
            sentences, total_words=words, epochs=1, start_alpha=max(start, 0.0), end_alpha=max(end, 0.0)
        )
        return {"words": float(raw), "effective_words": float(effective)}, len(sentences)


def _tokens(sentence):
    if isinstance(sentence, str):
        return sentence.split()
    return list(sentence)


def _replica_class(kind):
    return _ModelReplica if kind == "model" else _Word2VecReplica


class _Replica:
    def __init__(self, kind, payload, settings):
        self.trainer = _replica_class(kind)(_decode(kind, payload), settings)
        self.base = [array.copy() for array in self.arrays()]

    def arrays(self):
        # Asked each time: the engine may replace a layer's arrays by views into one
        # packed buffer on the first fit.
        return self.trainer.arrays_of(self.trainer.model)


# -- the task each replica runs per round ---------------------------------------------------
def _round(job, replica, kind, payload, update, pieces, settings):
    """Apply the last sync, train on ``pieces``, return ``(changed rows, logs, samples)``.

    ``pieces`` holds ``(partition, index, start, stop)``: rows ``start:stop`` of the
    partition, in the order the epoch's shuffle gives them."""
    key = (job, replica)
    with _REPLICAS_LOCK:
        state = _REPLICAS.get(key)
        if state is None:
            state = _REPLICAS[key] = _Replica(kind, payload, dict(settings, replica=replica))
    if update is not None:
        _sync.apply(state.arrays(), update)
        _sync.apply(state.base, update)
    frames = [_rows_of(partition, index, start, stop, settings) for partition, index, start, stop in pieces]
    if not frames:
        return [(np.empty(0, np.int32), _sync.as_rows(a)[:0].copy()) for a in state.base], {}, 0
    started = time.perf_counter()
    logs, samples = state.trainer.train(frames, settings)
    logs["train_seconds"] = time.perf_counter() - started
    return _sync.changes(state.arrays(), state.base), logs, samples


def _rows_of(partition, index, start, stop, settings):
    order = _partition_order(len(partition), index, settings)[start:stop]
    if hasattr(partition, "iloc"):
        return partition.iloc[order]
    return [partition[i] for i in order]


def _partition_order(n, index, settings):
    if not settings["shuffle"]:
        return np.arange(n)
    return np.random.default_rng([settings["seed"], settings["epoch"], index]).permutation(n)


def _release(job):
    """Drop a job's replicas from this worker process."""
    with _REPLICAS_LOCK:
        for key in [key for key in _REPLICAS if key[0] == job]:
            del _REPLICAS[key]


# -- the driver -----------------------------------------------------------------------------
def schedule(lengths, replicas, rows_per_round, order=None):
    """Which rows each replica trains on in each round of one epoch.

    Partition ``i`` belongs to replica ``i % replicas``; a replica reads its partitions
    in ``order`` (default: by index) and takes ``rows_per_round`` rows per round.

    Returns
    -------
    list of rounds; each round is a list (one per replica) of ``(index, start, stop)``
    pieces, empty once a replica has used its rows.
    """
    order = range(len(lengths)) if order is None else order
    per_replica = []
    for replica in range(replicas):
        rounds, current, room = [], [], rows_per_round
        for index in (i for i in order if i % replicas == replica):
            start = 0
            while start < lengths[index]:
                take = min(room, lengths[index] - start)
                current.append((index, start, start + take))
                start += take
                room -= take
                if room == 0:
                    rounds.append(current)
                    current, room = [], rows_per_round
        if current:
            rounds.append(current)
        per_replica.append(rounds)
    n_rounds = max((len(rounds) for rounds in per_replica), default=0)
    return [[rounds[k] if k < len(rounds) else [] for rounds in per_replica] for k in range(n_rounds)]


class SyncLog:
    """What the syncs cost: rounds, bytes and rows sent each way per sync, and the time
    rounds took (wall clock at the driver, and the slowest replica's training)."""

    def __init__(self):
        self.rounds = 0
        self.bytes_up = []  # per sync: all replicas' changed rows, summed
        self.bytes_down = []  # per sync: the combined rows, once per replica
        self.rows_up = []
        self.rows_combined = []
        self.wall_seconds = []
        self.train_seconds = []

    def record(self, sent_by_replica, combined, replicas, wall_seconds, train_seconds):
        self.rounds += 1
        self.bytes_up.append(sum(_sync.update_bytes(sent) for sent in sent_by_replica))
        self.bytes_down.append(_sync.update_bytes(combined) * replicas)
        self.rows_up.append(sum(_sync.update_rows(sent) for sent in sent_by_replica))
        self.rows_combined.append(_sync.update_rows(combined))
        self.wall_seconds.append(wall_seconds)
        self.train_seconds.append(train_seconds)

    def summary(self):
        mean = lambda values: float(np.mean(values)) if values else 0.0  # noqa: E731
        return {
            "rounds": self.rounds,
            "bytes_up_per_sync": mean(self.bytes_up),
            "bytes_down_per_sync": mean(self.bytes_down),
            "rows_up_per_sync": mean(self.rows_up),
            "rows_combined_per_sync": mean(self.rows_combined),
            "wall_seconds_per_round": mean(self.wall_seconds),
            "train_seconds_per_round": mean(self.train_seconds),
            "total_bytes": int(sum(self.bytes_up) + sum(self.bytes_down)),
        }


def fit(
    model: Any,
    data: Any,
    x: str = "text",
    y: str = "label",
    *,
    epochs: int = 1,
    batch_size: int = 32,
    sync_every: int = 16,
    replicas: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    scale_learning_rate: bool = False,
    client: Any = None,
    verbose: int = 0,
) -> History:
    """Train ``model`` on a Dask collection with one replica per worker, averaging the
    replicas every ``sync_every`` steps.

    Parameters
    ----------
    model : Sequential (compiled), Word2Vec or FastText (with its vocabulary built)
        Trained in place: it ends with the averaged weights.
    data : dask.dataframe.DataFrame with columns ``x`` and ``y`` (Sequential), or a Dask
        Series / Bag of sentences (str, split on whitespace, or lists of tokens) for
        Word2Vec.
    x, y : column names of the inputs (e.g. raw texts for a model that starts with a
        TextVectorization layer) and the labels.
    epochs, batch_size : as in ``fit``.
    sync_every : int
        Steps between syncs: batches for a Sequential, sentences for Word2Vec.
    replicas : int, optional
        Model copies trained side by side (default: one per worker). Partition ``i``
        belongs to replica ``i % replicas``; replicas are placed on the workers in turn.
    shuffle : bool
        Each epoch, each replica reads its partitions in a seeded order and each
        partition's rows in a seeded order.
    seed : int
        With the partitioning, fixes the result bitwise, wherever the replicas run.
    scale_learning_rate : bool
        Each replica runs at ``replicas`` times the model's learning rate (a Sequential's
        optimizer rate; Word2Vec's ``alpha`` and ``min_alpha``): the linear scaling rule of
        Goyal et al., 2017, which Horovod also recommends. The average of the replicas'
        steps is about one step at the base rate, so without it an epoch moves the weights
        about ``1 / replicas`` as far as in one process. The model's own rate is unchanged.
    client : distributed.Client, optional
        Default: the current client.

    Returns
    -------
    History
        ``history`` holds per-epoch means over the replicas' rounds (weighted by rows);
        ``sync`` what the syncs sent (``SyncLog.summary``).

    Notes
    -----
    Only weights are synced. Each replica keeps its own optimizer state (moments, step
    counts) for the whole run, as in local SGD, and it is dropped at the end: the returned
    model keeps the optimizer state it had before, as after ``load_weights``.
    """
    dask = _dask()
    from ..callbacks import History
    from ..word2vec import Word2Vec

    from ..models import Sequential

    if not isinstance(model, (Sequential, Word2Vec)):
        raise TypeError("fastembed.dask.fit trains a Sequential or a Word2Vec / FastText model, got %s" % type(model))
    if isinstance(model, Sequential) and model.optimizer is None:
        raise RuntimeError("compile() the model before fastembed.dask.fit")
    if isinstance(model, Word2Vec) and model.wv is None:
        raise RuntimeError("build_vocab() before fastembed.dask.fit")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("sync_every", sync_every)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError("%s must be a positive int, got %r" % (name, value))
    sequential = isinstance(model, Sequential)
    parts = _partitions(dask, data, sequential, x, y)
    client = client or _default_client()
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise RuntimeError("the Dask cluster has no workers")
    replicas = len(workers) if replicas is None else int(replicas)
    if replicas < 1:
        raise ValueError("replicas must be >= 1, got %r" % (replicas,))
    # Counted where the partitions are read, on the client's cluster (not the default one).
    lengths = [int(n) for n in client.gather(client.compute([dask.delayed(len)(part) for part in parts]))]
    rows_per_round = sync_every * (batch_size if sequential else 1)
    kind, payload = _payload(model)  # "model", "word2vec" or "fasttext"
    averaged = _replica_class(kind).averaged_logs
    job = uuid.uuid4().hex
    payload_future = client.scatter(payload, broadcast=True, hash=False)
    history, log = History(), SyncLog()
    update = None
    try:
        for epoch in range(epochs):
            order = np.random.default_rng([seed, epoch]).permutation(len(parts)) if shuffle else None
            rounds = schedule(lengths, replicas, rows_per_round, order)
            settings = {
                "x": x,
                "y": y,
                "batch_size": batch_size,
                "shuffle": shuffle,
                "seed": seed,
                "epoch": epoch,
                "replicas": replicas,
                "scale_learning_rate": scale_learning_rate,
            }
            loaded = {}  # partition index -> future, read a round ahead where its replica runs
            totals, samples = {}, 0
            for k, pieces_by_replica in enumerate(rounds):
                for index, replica in _partitions_of(rounds[k : k + 2]):
                    if index not in loaded:
                        loaded[index] = client.compute(parts[index], workers=[workers[replica % len(workers)]])
                round_settings = dict(settings, progress=((epoch + k / len(rounds)) / epochs,
                                                          (epoch + (k + 1) / len(rounds)) / epochs))  # fmt: skip
                round_started = time.perf_counter()
                futures = [
                    client.submit(
                        _round,
                        job,
                        replica,
                        kind,
                        payload_future,
                        update,
                        [(loaded[index], index, start, stop) for index, start, stop in pieces],
                        round_settings,
                        workers=[workers[replica % len(workers)]],
                        allow_other_workers=False,
                        pure=False,
                    )
                    for replica, pieces in enumerate(pieces_by_replica)
                ]
                results = client.gather(futures)
                sent_by_replica = [sent for sent, _, _ in results]
                arrays = _replica_class(kind).arrays_of(model)
                update = _sync.combine(arrays, sent_by_replica)
                _sync.apply(arrays, update)
                slowest = max(logs.pop("train_seconds", 0.0) for _, logs, _ in results)
                log.record(sent_by_replica, update, replicas, time.perf_counter() - round_started, slowest)
                for _, logs, n in results:
                    samples += n
                    for key, value in logs.items():
                        totals[key] = totals.get(key, 0.0) + (value * n if averaged else value)
                needed = {index for index, _ in _partitions_of(rounds[k + 1 : k + 3])}
                for index in [index for index in loaded if index not in needed]:
                    del loaded[index]  # the partition's last rows are used: workers drop it
            history.epoch.append(epoch)
            for key, total in totals.items():
                history.history.setdefault(key, []).append(total / max(samples, 1) if averaged else total)
            if verbose:
                logs = " - ".join("%s: %.4f" % (key, values[-1]) for key, values in history.history.items())
                print("Epoch %d/%d: %d rounds - %s" % (epoch + 1, epochs, len(rounds), logs))
    finally:
        client.run(_release, job)
    history.sync = log.summary()
    if sequential:
        model.history = history
    else:
        model._after_training()  # norms (and fastText's word vectors) from the averaged weights
    return history


def _partitions_of(rounds):
    """``(partition index, replica)`` of every piece of ``rounds``."""
    return [(index, replica) for pieces_by_replica in rounds
            for replica, pieces in enumerate(pieces_by_replica) for index, _, _ in pieces]  # fmt: skip


def _default_client():
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        raise RuntimeError(
            "fastembed.dask.fit needs a dask.distributed Client: start one (Client(), or "
            "Client(LocalCluster(...))) or pass client="
        ) from None


def _partitions(dask, data, sequential, x, y):
    """The collection's partitions as Delayed objects (checked: the right collection and columns)."""
    import dask.bag
    import dask.dataframe

    if sequential:
        if not isinstance(data, dask.dataframe.DataFrame):
            raise TypeError(
                "fastembed.dask.fit takes a dask.dataframe DataFrame with columns %r and %r, got %s"
                % (x, y, type(data).__name__)
            )
        missing = [name for name in (x, y) if name not in data.columns]
        if missing:
            raise KeyError("the DataFrame has no column %s (it has %s)" % (missing, list(data.columns)))
        return data[[x, y]].to_delayed()
    if not isinstance(data, (dask.dataframe.Series, dask.bag.Bag)):
        raise TypeError(
            "fastembed.dask.fit trains Word2Vec on a Dask Series or Bag of sentences, got %s" % type(data).__name__
        )
    return data.to_delayed()
