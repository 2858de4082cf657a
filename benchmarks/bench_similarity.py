"""Nearest-neighbour search: 1,000 ``most_similar`` queries over a 100,000 x 128 table
(issue target: under 1 s here), and analogy evaluation on gensim's questions-words.txt.

    python benchmarks/bench_similarity.py [--repeats 5] [--rows 100000] [--dim 128] [--check]

Compared, in the same process: fastembed's ``most_similar_batch`` (all threads and one),
its NumPy twin (``fastembed.reference.top_k_similar``: every score at once, then a full
sort), gensim's ``most_similar`` one query at a time and PyTorch's matmul + topk, each
when importable. Figures are medians of ``--repeats`` runs. ``--check`` exits 1 when the
1,000 queries take 1 s or more.
"""

import argparse
import importlib.util
import os
import sys
import tempfile
import time

import numpy as np

import fastembed
from fastembed import reference
from fastembed.embeddings import KeyedVectors

from _timing import median_time  # benchmarks/, first on sys.path when a script runs


def installed(module):
    return importlib.util.find_spec(module) is not None


def analogy_file(words, n_questions, rng):
    """A questions-words.txt: gensim's own when installed, else random questions."""
    if installed("gensim"):
        from gensim.test.utils import datapath

        return datapath("questions-words.txt"), None
    handle, path = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(handle, "w") as out:
        out.write(": random\n")
        for _ in range(n_questions):
            out.write(" ".join(rng.choice(words[:1000], 4, replace=False)) + "\n")
    return path, path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--topn", type=int, default=10)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    words = ["w%d" % i for i in range(args.rows)]
    vectors = rng.standard_normal((args.rows, args.dim)).astype(np.float32)
    kv = KeyedVectors(vectors, words)
    kv.fill_norms()
    queries = [words[i] for i in rng.choice(args.rows, args.queries, replace=False)]
    print(
        "fastembed %s, %d threads; table %d x %d float32, %d queries, topn %d; medians of %d runs"
        % (
            fastembed.__version__,
            fastembed.get_num_threads(),
            args.rows,
            args.dim,
            args.queries,
            args.topn,
            args.repeats,
        )
    )

    results = {}
    results["fastembed, all threads"] = median_time(
        lambda: kv.most_similar_batch(queries, topn=args.topn), args.repeats
    )
    with fastembed.threads(1):
        results["fastembed, 1 thread"] = median_time(
            lambda: kv.most_similar_batch(queries, topn=args.topn), args.repeats
        )
    rows = np.array([kv.get_index(w) for w in queries])
    unit_queries = vectors[rows] * kv.fill_norms()[rows][:, None]
    results["NumPy twin"] = median_time(
        lambda: reference.top_k_similar(
            vectors, unit_queries, args.topn, inv_norms=kv.fill_norms(), exclude=rows[:, None]
        ),
        max(1, args.repeats // 2),
    )
    if installed("gensim"):
        from gensim.models import KeyedVectors as GensimKeyedVectors

        theirs = GensimKeyedVectors(args.dim)
        theirs.add_vectors(words, vectors)
        theirs.fill_norms()
        results["gensim most_similar, one query at a time"] = median_time(
            lambda: [theirs.most_similar(w, topn=args.topn) for w in queries], max(1, args.repeats // 2)
        )
    if installed("torch"):
        import torch

        table = torch.from_numpy(vectors)
        unit_table = table / table.norm(dim=1, keepdim=True)

        def torch_search():
            scores = torch.from_numpy(unit_queries) @ unit_table.T
            scores[torch.arange(len(rows)), torch.from_numpy(rows)] = -float("inf")
            return scores.topk(args.topn, dim=1)

        results["torch matmul + topk (unit table precomputed)"] = median_time(torch_search, args.repeats)

    best = results["fastembed, all threads"]
    print("\n| %d most_similar queries | median s | fastembed is |" % args.queries)
    print("|---|---:|---:|")
    for name, seconds in results.items():
        print(
            "| %s | %.3f | %s |"
            % (name, seconds, "-" if name == "fastembed, all threads" else "%.1fx faster" % (seconds / best))
        )

    path, temporary = analogy_file(words, 2000, rng)
    try:
        # Give the analogy words vectors: the first rows become the file's words.
        file_words = []
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.startswith(":"):
                    file_words.extend(line.split())
        file_words = list(dict.fromkeys(file_words))
        analogy_kv = KeyedVectors(vectors, file_words + words[len(file_words) :])
        seconds = median_time(lambda: analogy_kv.evaluate_word_analogies(path), max(1, args.repeats // 2))
        _, sections = analogy_kv.evaluate_word_analogies(path)
        n_questions = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
        print(
            "\nevaluate_word_analogies: %d questions over %d rows: fastembed %.2f s" % (n_questions, args.rows, seconds)
        )
        if installed("gensim"):
            from gensim.models import KeyedVectors as GensimKeyedVectors

            theirs = GensimKeyedVectors(args.dim)
            theirs.add_vectors(analogy_kv.index_to_key, vectors)
            start = time.perf_counter()
            theirs.evaluate_word_analogies(path)
            their_seconds = time.perf_counter() - start
            print(
                "gensim evaluate_word_analogies (one run): %.2f s, %.1fx slower"
                % (their_seconds, their_seconds / seconds)
            )
    finally:
        if temporary:
            os.unlink(temporary)

    if args.check and best >= 1.0:
        print("FAIL: %d queries took %.3f s (target < 1 s)" % (args.queries, best))
        sys.exit(1)


if __name__ == "__main__":
    main()
