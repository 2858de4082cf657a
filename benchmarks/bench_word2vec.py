"""Word2Vec against gensim on IMDB (issue 15): the same tokenised corpus, the same settings,
in the same run.

Corpus: the 50,000 reviews of ../shared/data/imdb (train + test), lower-cased, '<br />'
removed, tokens [a-z0-9']+ (about 11.6M tokens), tokenised once for both libraries.
Settings: vector_size 100, window 5, negative 5, min_count 5, sample 1e-3, 5 epochs,
skip-gram and CBOW; gensim with workers=2 (the anchor), fastembed Hogwild (default) and
deterministic. For each: words/s (corpus words x epochs / training wall time), the
``evaluate_word_analogies`` score on gensim's questions-words.txt and the WordSim-353
Spearman correlation, as means over the seeds.

    python benchmarks/bench_word2vec.py [--seeds 3] [--epochs 5] [--modes sg,cbow] [--cbow-group 1] [--check]

``--check`` exits 1 when a target is missed: fastembed Hogwild >= 3x gensim's words/s with
an analogy score no lower than gensim's minus 0.5 points; deterministic >= 2x (its scores
are printed beside).
"""

import argparse
import csv
import os
import re
import statistics
import sys
import time

import fastembed
from fastembed.word2vec import Word2Vec

DATA = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "imdb"))
SETTINGS = dict(vector_size=100, window=5, negative=5, min_count=5, sample=1e-3)
_TOKEN = re.compile(r"[a-z0-9']+")
_BREAK = re.compile(r"<br\s*/?>")


def load_corpus():
    csv.field_size_limit(1 << 24)
    sentences = []
    for name in ("imdb_train.csv", "imdb_test.csv"):
        with open(os.path.join(DATA, name), newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                sentences.append(_TOKEN.findall(_BREAK.sub(" ", row["text"].lower())))
    return sentences


def evaluation_files():
    from gensim.test.utils import datapath

    return datapath("questions-words.txt"), datapath("wordsim353.tsv")


def score(wv, analogies, wordsim):
    analogy = wv.evaluate_word_analogies(analogies)[0]
    spearman = wv.evaluate_word_pairs(wordsim)[1]
    return analogy, spearman[0] if isinstance(spearman, tuple) else spearman.statistic


def run_gensim(sentences, sg, seed, epochs, files):
    from gensim.models import Word2Vec as GensimWord2Vec

    model = GensimWord2Vec(sg=sg, seed=seed, workers=2, epochs=epochs, **SETTINGS)
    model.build_vocab(sentences)
    started = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
    elapsed = time.perf_counter() - started
    return model.corpus_total_words * epochs / elapsed, score(model.wv, *files)


def run_fastembed(sentences, sg, seed, epochs, files, deterministic, cbow_group=1):
    model = Word2Vec(sg=sg, seed=seed, epochs=epochs, deterministic=deterministic, cbow_group=cbow_group, **SETTINGS)
    model.build_vocab(sentences)
    started = time.perf_counter()
    model.train(sentences)
    elapsed = time.perf_counter() - started
    return model.corpus_total_words * epochs / elapsed, score(model.wv, *files)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--modes", default="sg,cbow")
    parser.add_argument("--cbow-group", type=int, default=1, help="CBOW centre words sharing negatives (default 1)")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if not os.path.isdir(DATA):
        print("../shared/data/imdb is not present; nothing to measure")
        return 0
    try:
        import gensim
    except ImportError:
        print("gensim is not installed: the anchor is missing (pip install gensim)")
        return 1 if args.check else 0
    files = evaluation_files()
    started = time.perf_counter()
    sentences = load_corpus()
    print(
        "IMDB train + test: %d reviews, %.2fM tokens (tokenised once, %.1f s); fastembed %s, %d threads; gensim %s"
        % (
            len(sentences),
            sum(map(len, sentences)) / 1e6,
            time.perf_counter() - started,
            fastembed.__version__,
            fastembed.get_num_threads(),
            gensim.__version__,
        )
    )
    print("settings: %s, %d epochs, %d seeds (medians of words/s, means of scores)" % (SETTINGS, args.epochs,
                                                                                      args.seeds))  # fmt: skip
    all_met = True
    for mode in args.modes.split(","):
        sg = 1 if mode == "sg" else 0
        rows = {"gensim (workers=2)": [], "fastembed hogwild": [], "fastembed deterministic": []}
        for seed in range(1, args.seeds + 1):
            # Interleaved per seed, so that machine noise touches all three alike.
            rows["gensim (workers=2)"].append(run_gensim(sentences, sg, seed, args.epochs, files))
            group = args.cbow_group
            rows["fastembed hogwild"].append(run_fastembed(sentences, sg, seed, args.epochs, files, False, group))
            rows["fastembed deterministic"].append(run_fastembed(sentences, sg, seed, args.epochs, files, True, group))
        summary = {}
        for name, results in rows.items():
            speed = statistics.median(r[0] for r in results)
            analogy = statistics.mean(r[1][0] for r in results)
            spearman = statistics.mean(r[1][1] for r in results)
            summary[name] = (speed, analogy, spearman)
        anchor = summary["gensim (workers=2)"]
        print("%s:" % ("skip-gram (sg=1)" if sg else "CBOW (sg=0)"))
        for name, (speed, analogy, spearman) in summary.items():
            print(
                "  %-26s %8.0fk words/s  %5.2fx  analogies %.4f  WordSim-353 Spearman %.4f  (per seed: %s)"
                % (name, speed / 1e3, speed / anchor[0], analogy, spearman,
                   ", ".join("%.4f" % r[1][0] for r in rows[name]))
            )  # fmt: skip
        hogwild, deterministic = summary["fastembed hogwild"], summary["fastembed deterministic"]
        met_hogwild = hogwild[0] >= 3 * anchor[0] and hogwild[1] >= anchor[1] - 0.005
        met_deterministic = deterministic[0] >= 2 * anchor[0]
        print(
            "  targets: hogwild >= 3x at analogies >= gensim - 0.5 points: %s; deterministic >= 2x: %s"
            % ("ok" if met_hogwild else "MISSED", "ok" if met_deterministic else "MISSED")
        )
        all_met = all_met and met_hogwild and met_deterministic
    return 1 if args.check and not all_met else 0


if __name__ == "__main__":
    sys.exit(main())
