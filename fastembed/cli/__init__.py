"""The ``fastembed`` command line (also ``python -m fastembed``), built on the public API.

Exit status: 0 on success, 2 for a user mistake (one line on stderr, no traceback unless
``--verbose``), 130 when interrupted with Ctrl-C.
"""

import argparse
import os
import sys
import traceback

from ._errors import UserError

_EXAMPLES = {
    "train": "examples:\n  fastembed train ../shared/data/imdb/imdb_train.csv --test ../shared/data/imdb/imdb_test.csv "
    "--epochs 3 --out imdb-run\n  fastembed train aclImdb/train --test aclImdb/test --out imdb-run\n"
    "  fastembed train reviews.tsv --tokenizer subwords --vocab-size 8000 --out run",
    "predict": "examples:\n  fastembed predict imdb-run 'A wonderful film' 'Dull and far too long'\n"
    "  fastembed predict imdb-run --file reviews.txt --json\n  cat reviews.txt | fastembed predict imdb-run --file -",
    "neighbors": "example:\n  fastembed neighbors imdb-run great awful --topn 5",
    "analogy": "example (A is to B as C is to ?):\n  fastembed analogy fastembed-demo france paris japan",
    "export": "examples:\n  fastembed export imdb-run --format projector --to projector/\n"
    "  fastembed export imdb-run --format word2vec-binary --to vectors.bin",
    "evaluate": "examples:\n  fastembed evaluate imdb-run ../shared/data/imdb/imdb_test.csv --json\n"
    "  fastembed evaluate vectors-run --analogies questions-words.txt",
    "word2vec": "examples:\n  fastembed word2vec corpus.txt --out vectors-run --sg --epochs 5\n"
    "  fastembed word2vec corpus.txt --out vectors-run --fasttext --deterministic --threads 2",
    "info": "example:\n  fastembed info --json",
    "demo": "example:\n  fastembed demo            # writes ./fastembed-demo/",
}


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not an integer" % text) from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1, got %d" % value)
    return value


def _at_most(limit):
    """An argparse type: a positive integer up to ``limit`` (beyond it, the command would
    only fail later, allocating, with a traceback)."""

    def parse(text):
        value = _positive_int(text)
        if value > limit:
            raise argparse.ArgumentTypeError("at most %d, got %d" % (limit, value))
        return value

    return parse


def _thread_count(text):
    """--threads: at most 4 per core (libgomp aborts the whole process when it cannot
    create the threads asked for: 5,000 did here)."""
    value = _positive_int(text)
    limit = 4 * (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    if value > limit:
        raise argparse.ArgumentTypeError("at most %d threads (4 per core), got %d" % (limit, value))
    return value


def _number(check, requirement):
    """An argparse type: a float satisfying ``check``, else an error naming ``requirement``."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%r is not a number" % text) from None
        if not check(value):
            raise argparse.ArgumentTypeError("must be %s, got %s" % (requirement, text))
        return value

    return parse


_fraction = _number(lambda value: 0 <= value < 1, "in [0, 1)")
_positive_float = _number(lambda value: value > 0, "> 0")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: one line, status 2
        raise UserError("%s: %s (see %s --help)" % (self.prog, message, self.prog))


def _training_options(parser, epochs, vocab_size, seq_len):
    parser.add_argument("--tokenizer", choices=["words", "subwords"], default="words")
    parser.add_argument("--vocab-size", type=_at_most(1 << 24), default=vocab_size)
    parser.add_argument("--seq-len", type=_at_most(1 << 20), default=seq_len)
    parser.add_argument("--dim", type=_at_most(1 << 13), default=16, help="embedding dimension (default 16)")
    parser.add_argument("--hidden", type=_at_most(1 << 16), default=16, help="units of the relu layer (default 16)")
    parser.add_argument("--epochs", type=_positive_int, default=epochs)
    parser.add_argument("--batch-size", type=_positive_int, default=32)
    parser.add_argument("--learning-rate", type=_positive_float, default=1e-3)
    parser.add_argument("--validation-split", type=_fraction, default=0.2)
    parser.add_argument(
        "--shuffle-buffer",
        type=_at_most(1 << 24),
        default=10_000,
        help="records held in memory while shuffling (default 10000; larger data is shuffled through "
        "temporary bucket files, still uniformly; 1: file order)",
    )
    parser.add_argument("--threads", type=_thread_count, default=None, help="default: all cores")
    parser.add_argument("--seed", type=int, default=0)


def build_parser():
    parser = _Parser(
        prog="fastembed",
        description="Train text classifiers and explore their embeddings (CPU, Cython + OpenMP kernels).",
    )
    parser.add_argument("--verbose", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name, help_text):
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "--verbose", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error"
        )
        return sub

    train = add("train", "Train the tutorial model on labelled text and write a run directory.")
    train.add_argument("data", help="class folders, CSV/TSV or fastText file (see fastembed.datasets)")
    train.add_argument("--test", help="held-out data, scored after training")
    train.add_argument("--text-column")
    train.add_argument("--label-column")
    train.add_argument("--out", required=True, help="run directory to write")
    train.add_argument(
        "--overwrite", action="store_true", help="replace an existing run directory (only once the new run is complete)"
    )
    _training_options(train, epochs=10, vocab_size=10000, seq_len=256)

    predict = add("predict", "Classify texts with a trained run.")
    predict.add_argument("dir")
    predict.add_argument("texts", nargs="*")
    predict.add_argument("--file", help="one text per line; - reads stdin")
    predict.add_argument("--json", action="store_true")

    neighbors = add("neighbors", "Nearest neighbours of words in the learned embedding.")
    neighbors.add_argument("dir")
    neighbors.add_argument("words", nargs="+")
    neighbors.add_argument("--topn", type=_at_most(1 << 20), default=10)
    neighbors.add_argument("--json", action="store_true")

    analogy = add("analogy", "A is to B as C is to ? (3CosAdd on the learned embedding).")
    analogy.add_argument("dir")
    analogy.add_argument("a")
    analogy.add_argument("b")
    analogy.add_argument("c")
    analogy.add_argument("--topn", type=_at_most(1 << 20), default=5)
    analogy.add_argument("--json", action="store_true")

    export = add("export", "Export the learned embedding.")
    export.add_argument("dir")
    export.add_argument("--format", choices=["projector", "word2vec", "word2vec-binary"], default="projector")
    export.add_argument("--to", required=True, help="directory (projector) or file (word2vec)")

    evaluate = add(
        "evaluate",
        "Accuracy and per-class precision/recall of a run on labelled data, or (--analogies) the analogy score "
        "of its word vectors.",
    )
    evaluate.add_argument("dir")
    evaluate.add_argument("data", nargs="?")
    evaluate.add_argument("--analogies", help="questions-words.txt format (': section' lines, then 'a b c d')")
    evaluate.add_argument("--text-column")
    evaluate.add_argument("--label-column")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--json", action="store_true")

    word2vec = add("word2vec", "Train word2vec (or fastText) vectors on a corpus file, one sentence a line.")
    word2vec.add_argument("corpus", help="UTF-8 text, one sentence a line, tokens separated by spaces")
    word2vec.add_argument("--out", required=True, help="run directory to write")
    word2vec.add_argument(
        "--overwrite", action="store_true", help="replace an existing run (once the new one is whole)"
    )
    word2vec.add_argument("--sg", action="store_true", help="skip-gram (default: CBOW)")
    word2vec.add_argument("--fasttext", action="store_true", help="character n-gram vectors (fastText)")
    word2vec.add_argument("--dim", type=_at_most(1 << 13), default=100)
    word2vec.add_argument("--window", type=_at_most(1 << 10), default=5)
    word2vec.add_argument("--epochs", type=_positive_int, default=5)
    word2vec.add_argument("--min-count", type=_positive_int, default=5)
    word2vec.add_argument("--negative", type=_at_most(1 << 10), default=5)
    word2vec.add_argument("--sample", type=_fraction, default=1e-3)
    word2vec.add_argument("--min-n", type=_at_most(64), default=3)
    word2vec.add_argument("--max-n", type=_at_most(64), default=6)
    word2vec.add_argument("--bucket", type=_at_most(1 << 26), default=2_000_000)
    word2vec.add_argument("--deterministic", action="store_true", help="bitwise-identical vectors for any thread count")
    word2vec.add_argument("--threads", type=_thread_count, default=None, help="default: all cores")
    word2vec.add_argument("--seed", type=int, default=1)

    info = add("info", "Build and runtime configuration (fastembed.show_config()).")
    info.add_argument("--json", action="store_true")

    demo = add("demo", "Train on a generated review corpus (no download) and show what the embedding learned.")
    demo.add_argument("--out", default="fastembed-demo")
    demo.add_argument("--samples", type=_positive_int, default=5000)
    _training_options(demo, epochs=10, vocab_size=1000, seq_len=32)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    verbose = "--verbose" in argv
    try:
        parser = build_parser()
        args, rest = parser.parse_known_args(argv)
        if rest and args.command == "predict" and not any(item.startswith("-") for item in rest):
            # Texts after an option (`predict RUN --json "text"`): argparse has already
            # closed the list of positionals; they are texts all the same.
            args.texts = list(args.texts) + rest
        elif rest:
            parser.error("unrecognized arguments: %s" % " ".join(rest))
        if args.command is None:
            build_parser().print_help()
            return 2
        from . import _train, _use, _word2vec

        handler = {
            "train": _train.command_train,
            "demo": _train.command_demo,
            "predict": _use.command_predict,
            "neighbors": _use.command_neighbors,
            "analogy": _use.command_analogy,
            "export": _use.command_export,
            "evaluate": _use.command_evaluate,
            "info": _use.command_info,
            "word2vec": _word2vec.command_word2vec,
        }[args.command]
        return handler(args)
    except KeyboardInterrupt as exc:
        print("fastembed: %s" % (str(exc) or "interrupted"), file=sys.stderr)
        return 130
    except (UserError, OSError, ValueError, KeyError, TypeError) as exc:
        if verbose:
            traceback.print_exc()
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print("fastembed: error: %s" % message, file=sys.stderr)
        return 2


def main_exit():
    """Console-script entry point: run :func:`main` and exit with its status."""
    sys.exit(main())
