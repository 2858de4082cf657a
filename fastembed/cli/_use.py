"""Commands that read a run directory: predict, neighbors, analogy, export, evaluate, info."""

import json
import os
import sys

import numpy as np

from .. import show_config
from ._errors import UserError
from ._run import load_run
from ._train import evaluate_run, load_data


def _emit(out, args, payload, lines):
    """JSON (one document, for programs) with --json, else human-readable lines."""
    if getattr(args, "json", False):
        out(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            out(line)


def _read_texts(args):
    texts = list(args.texts)
    if args.file:
        if args.file == "-":
            texts += [line.rstrip("\n") for line in sys.stdin]
        else:
            try:
                with open(args.file, encoding="utf-8") as handle:
                    texts += [line.rstrip("\n") for line in handle]
            except FileNotFoundError:
                raise UserError("%s does not exist" % args.file) from None
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise UserError("no text to classify: give texts as arguments, or --file F (- for stdin)")
    return texts


def command_predict(args, out=print):
    run = load_run(args.dir)
    texts = _read_texts(args)
    probabilities = run.probabilities(texts)
    best = np.argmax(probabilities, axis=1)
    payload = [
        {
            "text": text,
            "label": run.class_names[b],
            "probability": float(p[b]),
            "probabilities": {name: float(v) for name, v in zip(run.class_names, p)},
        }
        for text, b, p in zip(texts, best.tolist(), probabilities)
    ]
    lines = ["label\tprobability\ttext"] + ["%s\t%.4f\t%s" % (r["label"], r["probability"], r["text"]) for r in payload]
    _emit(out, args, payload, lines)
    return 0


def _known(kv, words):
    missing = [w for w in words if w not in kv]
    if missing:
        raise UserError("not in the vocabulary: %s" % ", ".join(missing))


def command_neighbors(args, out=print):
    kv = load_run(args.dir).keyed_vectors()
    _known(kv, args.words)
    answers = kv.most_similar_batch(args.words, topn=args.topn)
    payload = {word: [{"word": w, "similarity": s} for w, s in answer] for word, answer in zip(args.words, answers)}
    lines = []
    for word, answer in zip(args.words, answers):
        lines.append("%s: %s" % (word, ", ".join("%s %.3f" % (w, s) for w, s in answer)))
    _emit(out, args, payload, lines)
    return 0


def command_analogy(args, out=print):
    kv = load_run(args.dir).keyed_vectors()
    _known(kv, [args.a, args.b, args.c])
    answer = kv.most_similar(positive=[args.b, args.c], negative=[args.a], topn=args.topn)
    payload = {"question": [args.a, args.b, args.c], "answers": [{"word": w, "similarity": s} for w, s in answer]}
    lines = ["%s is to %s as %s is to:" % (args.a, args.b, args.c)] + ["  %s %.3f" % (w, s) for w, s in answer]
    _emit(out, args, payload, lines)
    return 0


def command_export(args, out=print):
    kv = load_run(args.dir).keyed_vectors()
    if args.format == "projector":
        vecs, meta = kv.save_projector(args.to)
        out("Wrote %s and %s (load them at https://projector.tensorflow.org)" % (vecs, meta))
    else:
        directory = os.path.dirname(os.path.abspath(args.to))
        if not os.path.isdir(directory):
            raise UserError("%s does not exist" % directory)
        kv.save_word2vec_format(args.to, binary=args.format == "word2vec-binary")
        out("Wrote %d vectors of dimension %d to %s" % (len(kv), kv.vector_size, args.to))
    return 0


def command_evaluate(args, out=print):
    run = load_run(args.dir)
    if args.analogies:
        return _evaluate_analogies(run, args, out)
    if args.data is None:
        raise UserError("evaluate needs labelled DATA, or --analogies FILE for word vectors")
    if not hasattr(run, "probabilities"):
        raise UserError("%s holds word vectors, not a classifier: use --analogies FILE" % args.dir)
    data, _ = load_data(args.data, args)
    scores = evaluate_run(run, data)
    lines = [
        "accuracy %.4f on %d texts" % (scores["accuracy"], scores["samples"]),
        "%-20s %9s %9s %9s" % ("class", "precision", "recall", "support"),
    ]
    lines += [
        "%-20s %9.4f %9.4f %9d" % (name, s["precision"], s["recall"], s["support"])
        for name, s in scores["per_class"].items()
    ]
    _emit(out, args, scores, lines)
    return 0


def _evaluate_analogies(run, args, out):
    if not os.path.isfile(args.analogies):
        raise UserError("%s does not exist" % args.analogies)
    score, sections = run.keyed_vectors().evaluate_word_analogies(args.analogies)
    payload = {
        "score": score,
        "sections": [
            {"section": s["section"], "correct": len(s["correct"]), "incorrect": len(s["incorrect"])} for s in sections
        ],
    }
    lines = ["analogy score %.4f" % score] + [
        "%-32s %6d / %-6d" % (s["section"], s["correct"], s["correct"] + s["incorrect"]) for s in payload["sections"]
    ]
    _emit(out, args, payload, lines)
    return 0


def command_info(args, out=print):
    config = show_config()
    _emit(out, args, config, ["%s: %s" % (k, v) for k, v in config.items()])
    return 0
