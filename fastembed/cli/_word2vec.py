"""``fastembed word2vec``: unsupervised word vectors from a corpus file, as a run directory
that ``neighbors``, ``analogy``, ``export`` and ``evaluate --analogies`` read."""

import contextlib
import json
import os

from .. import __version__, threads
from .._files import atomic_write
from ..word2vec import FastText, Word2Vec
from ._run import RUN_FORMAT, RUN_VERSION
from ._train import staged_run

MODEL_FILE = "word2vec.npz"


class VectorsRun:
    """A run holding word vectors only (no classifier)."""

    kind = "word2vec"

    def __init__(self, model):
        self.model = model

    def keyed_vectors(self):
        return self.model.wv

    def save(self, directory, settings):
        self.model.save(os.path.join(directory, MODEL_FILE))
        with atomic_write(os.path.join(directory, "run.json"), encoding="utf-8") as handle:
            json.dump(
                {
                    "format": RUN_FORMAT,
                    "version": RUN_VERSION,
                    "fastembed_version": __version__,
                    "kind": self.kind,
                    "model": type(self.model).__name__,
                    "settings": settings,
                },
                handle,
                indent=2,
            )


def load_vectors_run(directory, info):
    cls = FastText if info.get("model") == "FastText" else Word2Vec
    return VectorsRun(cls.load(os.path.join(directory, MODEL_FILE)))


def command_word2vec(args, out=print):
    settings = dict(
        sg=int(args.sg),
        vector_size=args.dim,
        window=args.window,
        epochs=args.epochs,
        min_count=args.min_count,
        negative=args.negative,
        sample=args.sample,
        seed=args.seed,
        deterministic=args.deterministic,
    )
    cls = Word2Vec
    if args.fasttext:
        cls = FastText
        settings.update(min_n=args.min_n, max_n=args.max_n, bucket=args.bucket)
    with (
        threads(args.threads) if args.threads else contextlib.nullcontext(),
        staged_run(args.out, args.overwrite) as staging,
    ):
        model = cls(corpus_file=args.corpus, verbose=1, **settings)
        VectorsRun(model).save(staging, settings)
    out(
        "%s: %d words x %d dimensions from %d sentences (%d words); wrote %s/%s and run.json"
        % (cls.__name__, len(model.wv), model.vector_size, model.corpus_count, model.corpus_total_words, args.out,
           MODEL_FILE)
    )  # fmt: skip
    return 0
