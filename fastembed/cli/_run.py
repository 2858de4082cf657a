"""A run directory: what ``fastembed train`` writes and every other command reads.

Layout: ``model.npz`` (the model), ``encoder.json`` or ``encoder.subwords`` (the text
encoder), ``run.json`` (format, version, class names, tokenizer, sequence length),
``metrics.json``, ``vecs.tsv`` + ``meta.tsv`` and the pictures.
"""

import json
import os

import numpy as np

from .. import __version__
from .._files import atomic_write, read_json
from ..embeddings import KeyedVectors
from ..models import load_model
from ..text import SubwordEncoder, TextVectorizer, pad_sequences
from ._errors import UserError

RUN_FORMAT = "fastembed-run"
RUN_VERSION = 1
# run.json names the classes and the files of a run: kilobytes. Anything near this is not one.
MAX_RUN_JSON_BYTES = 16 << 20


class Run:
    """A trained model with its encoder and class names."""

    def __init__(self, model, encoder, class_names, seq_len):
        self.model, self.encoder, self.class_names, self.seq_len = model, encoder, list(class_names), int(seq_len)

    @property
    def tokenizer(self):
        return "subwords" if isinstance(self.encoder, SubwordEncoder) else "words"

    def encode(self, texts):
        """Padded ``(n, seq_len)`` ids for ``texts``, as the model was trained on."""
        if isinstance(self.encoder, TextVectorizer):
            return self.encoder(list(texts))
        return pad_sequences(
            [self.encoder.encode(text) for text in texts], maxlen=self.seq_len, padding="post", truncating="post"
        )

    def probabilities(self, texts):
        """``(n, n_classes)`` class probabilities."""
        output = self.model.predict(self.encode(texts), batch_size=256)
        if output.shape[1] == 1:  # sigmoid: the probability of class 1
            return _two_columns(output[:, 0])
        return output

    def keyed_vectors(self):
        return KeyedVectors.from_layer(self.model.layers[0], self.encoder)

    def save(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.model.save(os.path.join(directory, "model.npz"))
        if isinstance(self.encoder, TextVectorizer):
            self.encoder.save(os.path.join(directory, "encoder.json"))
        else:
            self.encoder.save_to_file(os.path.join(directory, "encoder"))
        with atomic_write(os.path.join(directory, "run.json"), encoding="utf-8") as handle:
            json.dump(
                {
                    "format": RUN_FORMAT,
                    "version": RUN_VERSION,
                    "fastembed_version": __version__,
                    "class_names": self.class_names,
                    "tokenizer": self.tokenizer,
                    "seq_len": self.seq_len,
                },
                handle,
                indent=2,
            )


def _two_columns(positive):
    return np.stack([1 - positive, positive], axis=1)


def load_run(directory):
    """Read a run directory written by ``fastembed train``; ``UserError`` when it is not one."""
    info_path = os.path.join(directory, "run.json")
    if not os.path.isdir(directory):
        raise UserError(
            "%s is not a directory (train a model first: fastembed train DATA --out %s)" % (directory, directory)
        )
    try:
        info = read_json(info_path, MAX_RUN_JSON_BYTES)
    except FileNotFoundError:
        raise UserError("%s has no run.json: not a directory written by fastembed train" % directory) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError("%s is damaged (%s)" % (info_path, exc)) from None
    if not isinstance(info, dict) or info.get("format") != RUN_FORMAT:
        raise UserError("%s is not a fastembed run description" % info_path)
    if info.get("version") != RUN_VERSION:
        raise UserError(
            "%s was written by fastembed %s (run format %s); this is fastembed %s (format %d): "
            "train again with this version"
            % (directory, info.get("fastembed_version", "?"), info.get("version"), __version__, RUN_VERSION)
        )
    if info.get("kind", "classifier") == "word2vec":
        from ._word2vec import load_vectors_run

        try:
            return load_vectors_run(directory, info)
        except FileNotFoundError as exc:
            raise UserError("%s is incomplete: %s is missing" % (directory, exc.filename)) from None
        except ValueError as exc:
            raise UserError("%s is damaged: %s" % (directory, exc)) from None
    try:
        model = load_model(os.path.join(directory, "model.npz"))
        if info["tokenizer"] == "words":
            encoder = TextVectorizer.load(os.path.join(directory, "encoder.json"))
        else:
            encoder = SubwordEncoder.load_from_file(os.path.join(directory, "encoder"))
        return Run(model, encoder, info["class_names"], info["seq_len"])
    except FileNotFoundError as exc:
        raise UserError("%s is incomplete: %s is missing" % (directory, exc.filename)) from None
    except (KeyError, ValueError) as exc:
        raise UserError("%s is damaged: %s" % (directory, exc)) from None
