"""Word2Vec (issue 15): the kernels against their NumPy twin, one step against finite
differences, determinism across thread counts, planted analogies, gensim's vocabulary,
corpus files, saving, and bad input."""

import os

import numpy as np
import pytest

import fastembed
from fastembed._kernels import _word2vec
from fastembed.word2vec import Word2Vec
from fastembed.word2vec import _reference, _vocabulary

RNG = np.random.default_rng(0)


def _tables(counts, sample=0.0):
    counts = np.asarray(counts, dtype=np.int64)
    return _vocabulary.sample_thresholds(counts, sample), _vocabulary.alias_table(counts, 0.75)


def _random_corpus(vocab, n_words, n_sentences, seed):
    rng = np.random.default_rng(seed)
    words = rng.zipf(1.5, size=n_words) % vocab
    cuts = np.sort(rng.choice(np.arange(1, n_words), size=n_sentences - 1, replace=False))
    ends = np.concatenate([cuts, [n_words]]).astype(np.int64)
    return words.astype(np.int32), ends


@pytest.mark.parametrize("sg,cbow_mean,cbow_group", [(1, 1, 1), (0, 1, 1), (0, 0, 1), (0, 1, 4), (0, 0, 3)])
@pytest.mark.parametrize("sample", [0.0, 1e-2])
def test_kernel_equals_its_numpy_twin(sg, cbow_mean, cbow_group, sample):
    vocab, dim = 40, 12
    words, ends = _random_corpus(vocab, 600, 30, seed=sg + 2 * cbow_mean)
    counts = np.bincount(words, minlength=vocab) + 1
    sample_int, alias = _tables(counts, sample)
    starts = np.array([0, 10, 22, 30], dtype=np.int64)
    alphas = np.array([0.05, 0.04, 0.03], dtype=np.float32)
    seeds = np.array([1, 2**63 + 5, 7], dtype=np.uint64)
    syn0 = ((RNG.random((vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    syn1 = ((RNG.random((vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    a0, a1 = syn0.copy(), syn1.copy()
    identity = (np.arange(vocab + 1, dtype=np.int64), np.arange(vocab, dtype=np.int32))
    args = (sample_int, alias[0], alias[1], *identity, sg, 3, 1, 4, cbow_mean, cbow_group)
    effective = _word2vec.train_shared(a0, a1, words, ends, starts, alphas, seeds, *args, 1)
    b0, b1 = syn0.copy(), syn1.copy()
    twin_effective = _reference.train_blocks(b0, b1, words, ends, starts, alphas, seeds, sample_int, alias, sg, 3, 1,
                                             4, cbow_mean, None, cbow_group)  # fmt: skip
    assert effective == twin_effective
    assert not np.array_equal(a0, syn0) and not np.array_equal(a1, syn1)
    np.testing.assert_allclose(a0, b0, rtol=1e-4, atol=2e-6)
    np.testing.assert_allclose(a1, b1, rtol=1e-4, atol=2e-6)


@pytest.mark.parametrize("sg", [1, 0])
def test_kernel_equals_its_twin_with_composed_inputs(sg):
    """fastText's inputs: each word averages its own row and n-gram bucket rows."""
    vocab, buckets, dim = 30, 17, 8
    words, ends = _random_corpus(vocab, 400, 20, seed=9 + sg)
    counts = np.bincount(words, minlength=vocab) + 1
    sample_int, alias = _tables(counts)
    rng = np.random.default_rng(sg)
    parts = [np.concatenate([[w], vocab + rng.choice(buckets, rng.integers(0, 4), replace=False)]) for w in
             range(vocab)]  # fmt: skip
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
    ids = np.concatenate(parts).astype(np.int32)
    syn0 = ((rng.random((vocab + buckets, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    syn1 = ((rng.random((vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    starts, alphas, seeds = np.array([0, 20], np.int64), np.array([0.05], np.float32), np.array([11], np.uint64)
    a0, a1 = syn0.copy(), syn1.copy()
    _word2vec.train_shared(a0, a1, words, ends, starts, alphas, seeds, sample_int, alias[0], alias[1], offsets, ids,
                           sg, 3, 1, 3, 1, 2, 1)  # fmt: skip
    b0, b1 = syn0.copy(), syn1.copy()
    _reference.train_blocks(b0, b1, words, ends, starts, alphas, seeds, sample_int, alias, sg, 3, 1, 3, 1,
                            (offsets, ids), 2)  # fmt: skip
    assert not np.array_equal(a0[vocab:], syn0[vocab:])  # the buckets learned
    np.testing.assert_allclose(a0, b0, rtol=1e-4, atol=2e-6)
    np.testing.assert_allclose(a1, b1, rtol=1e-4, atol=2e-6)


def test_sigmoid_table_edges():
    """Just below 6, (x + 6) rounds to 12.0f and the table index to 1000, one past the end:
    that read made one deterministic CBOW run diverge to NaN (bench_word2vec.py, seed 1)."""
    table = _word2vec.sigmoid_table()
    below_six = np.nextafter(np.float32(6), np.float32(0))
    assert _word2vec.sigmoid_value(below_six) == table[-1]
    assert _word2vec.sigmoid_value(6.0) == 1.0 and _word2vec.sigmoid_value(-6.0) == 0.0
    assert _word2vec.sigmoid_value(float("nan")) == 1.0
    assert _word2vec.sigmoid_value(0.0) == pytest.approx(0.5, abs=0.01)
    assert np.all(np.diff(table) >= 0) and 0 < table[0] < 0.01 and 0.99 < table[-1] < 1


def _one_pair_step(sg):
    """Two words, window 1, one negative that is always word 2: one exact SGD step."""
    dim = 6
    syn0 = RNG.normal(0, 0.3, (3, dim)).astype(np.float32)
    syn1 = RNG.normal(0, 0.3, (3, dim)).astype(np.float32)
    counts = np.array([1, 1, 1])
    sample_int = np.full(3, 0xFFFFFFFF, dtype=np.uint32)
    alias = (np.zeros(3, dtype=np.uint32), np.full(3, 2, dtype=np.int32))  # every draw is word 2
    words = np.array([0, 1], dtype=np.int32)
    ends = np.array([2], dtype=np.int64)
    alpha = 0.1
    before0, before1 = syn0.astype(np.float64), syn1.astype(np.float64)
    _word2vec.train_shared(syn0, syn1, words, ends, np.array([0, 1], np.int64), np.array([alpha], np.float32),
                           np.array([3], np.uint64), sample_int, alias[0], alias[1], np.arange(4, dtype=np.int64),
                           np.arange(3, dtype=np.int32), sg, 1, 0, 1, 1, 1, 1)  # fmt: skip
    del counts
    return before0, before1, syn0.astype(np.float64), syn1.astype(np.float64), alpha


def _log_likelihood(v, u_pos, u_neg):
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
    return np.log(sig(v @ u_pos)) + np.log(sig(-(v @ u_neg)))


@pytest.mark.parametrize("sg", [1, 0])
def test_one_step_follows_the_finite_difference_gradient(sg):
    """Position 0 predicts word 0 from context word 1 (and then position 1 the other way):
    the first move of each row equals alpha times the log-likelihood's gradient."""
    b0, b1, a0, a1, alpha = _one_pair_step(sg)
    # Sentence [0, 1], window 1: first centre 0 with context 1 (input row 1 -> output 0,
    # negative 2), then centre 1 with context 0 (input row 0 -> output 1, negative 2).
    # Rows 0 and 1 of syn0 are each the input of one pair only, so each moved by exactly
    # one gradient step taken at the weights of its moment.
    h = 1e-6

    def grad(f, x):
        g = np.zeros_like(x)
        for k in range(x.size):
            e = np.zeros_like(x)
            e[k] = h
            g[k] = (f(x + e) - f(x - e)) / (2 * h)
        return g

    # First pair: input v = syn0[1] (before), outputs syn1[0] (positive) and syn1[2] (negative).
    v, u_pos, u_neg = b0[1], b1[0], b1[2]
    # The kernels read the sigmoid from word2vec.c's 1,000-point table over [-6, 6]: each
    # g = label - sigmoid is off by at most 12/1000 * 1/4 from the exact one.
    table_error = alpha * 0.003 * 2 * max(np.abs(b1).max(), np.abs(b0).max())
    expected_input = v + alpha * grad(lambda x: _log_likelihood(x, u_pos, u_neg), v)
    np.testing.assert_allclose(a0[1], expected_input, rtol=0, atol=table_error)
    assert np.abs(a0[1] - v).max() > 10 * table_error  # the step itself is far larger
    # The positive output of the first pair moved once (word 0 is no later output).
    expected_output = u_pos + alpha * grad(lambda x: _log_likelihood(v, x, u_neg), u_pos)
    np.testing.assert_allclose(a1[0], expected_output, rtol=0, atol=table_error)


def _planted_corpus(n_sentences=6000, seed=0):
    """Countries and capitals: each pair shares words of its own; countries come with
    'nation' words, capitals with 'city' words. The analogy is then geometry."""
    rng = np.random.default_rng(seed)
    pairs = [("france", "paris"), ("italy", "rome"), ("japan", "tokyo"), ("egypt", "cairo"), ("peru", "lima"),
             ("kenya", "nairobi"), ("chile", "santiago"), ("spain", "madrid")]  # fmt: skip
    own = {country: ["%s_%d" % (country, k) for k in range(6)] for country, _ in pairs}
    nation = ["nation", "country", "government", "people", "border", "flag"]
    city = ["city", "mayor", "streets", "downtown", "metro", "district"]
    filler = ["the", "a", "of", "in", "and", "was", "we", "saw", "it", "there"]
    sentences = []
    for _ in range(n_sentences):
        country, capital = pairs[rng.integers(len(pairs))]
        is_capital = rng.random() < 0.5
        words = list(rng.choice(own[country], 3, replace=False)) + [capital if is_capital else country]
        words += list(rng.choice(city if is_capital else nation, 2, replace=False))
        words += list(rng.choice(filler, 2))
        rng.shuffle(words)
        sentences.append([str(w) for w in words])
    return sentences, pairs


def _analogy_score(wv, pairs):
    right = total = 0
    for country_a, capital_a in pairs:
        for country_b, capital_b in pairs:
            if country_a == country_b:
                continue
            answer = wv.most_similar(positive=[capital_a, country_b], negative=[country_a], topn=1)[0][0]
            right += answer == capital_b
            total += 1
    return right / total


@pytest.mark.parametrize("sg,deterministic", [(1, False), (0, False), (1, True)])
def test_planted_analogies_are_found(sg, deterministic):
    sentences, pairs = _planted_corpus()
    model = Word2Vec(sentences, vector_size=32, window=4, min_count=1, sample=0, sg=sg, epochs=15, seed=3,
                     deterministic=deterministic, merge_every=5000)  # fmt: skip
    assert _analogy_score(model.wv, pairs) >= 0.8
    # Each capital's nearest country is its own.
    countries = [c for c, _ in pairs]
    for country, capital in pairs:
        assert max(countries, key=lambda c: model.wv.similarity(capital, c)) == country


def test_deterministic_mode_is_bitwise_identical_for_1_and_2_threads():
    sentences, _ = _planted_corpus(3000)
    results = []
    for threads in (1, 2, 2):
        with fastembed.threads(threads):
            model = Word2Vec(sentences, vector_size=16, min_count=1, sg=1, epochs=2, deterministic=True,
                             replicas=3, merge_every=2000, seed=5)  # fmt: skip
        results.append((model.wv.vectors.copy(), model.syn1neg.copy()))
    for vectors, outputs in results[1:]:
        assert np.array_equal(vectors, results[0][0]) and np.array_equal(outputs, results[0][1])
    with fastembed.threads(2):
        other_seed = Word2Vec(sentences, vector_size=16, min_count=1, sg=1, epochs=2, deterministic=True, replicas=3,
                              merge_every=2000, seed=6)  # fmt: skip
    assert not np.array_equal(other_seed.wv.vectors, results[0][0])


def test_merge_replicas_adds_every_change_in_worker_order():
    shared = RNG.random((5, 3), dtype=np.float32)
    copies = np.stack([shared + RNG.random((5, 3), dtype=np.float32) for _ in range(3)])
    expected = shared.copy()
    for k in range(3):
        expected = expected + (copies[k] - shared)
    _word2vec.merge_replicas(shared, copies, 2)
    np.testing.assert_allclose(shared, expected, rtol=1e-6)
    assert all(np.array_equal(c, shared) for c in copies)


def test_vocabulary_sampling_and_alias_table():
    counts = {"a": 50, "b": 5, "c": 20, "d": 5, "e": 1}
    words, word_counts = _vocabulary.retained_words(counts, min_count=2)
    assert words == ["a", "c", "d", "b"]  # a tie: the later-seen word first, as gensim 4.4
    assert list(word_counts) == [50, 20, 5, 5]
    assert _vocabulary.retained_words(counts, 1, max_final_vocab=3)[0][:2] == ["a", "c"]
    assert len(_vocabulary.retained_words(counts, 1, max_final_vocab=3)[0]) == 2  # ties at the cut go together
    threshold, other = _vocabulary.alias_table(np.array([8, 4, 2, 1, 1]), 1.0)
    rng = np.random.default_rng(0)
    r = rng.integers(0, 2**64, size=200_000, dtype=np.uint64)
    slots = (r >> np.uint64(32)) % np.uint64(5)
    low = r & np.uint64(0xFFFFFFFF)
    draws = np.where(low < threshold[slots.astype(np.int64)], slots, other[slots.astype(np.int64)])
    np.testing.assert_allclose(np.bincount(draws.astype(np.int64), minlength=5) / r.size,
                               np.array([8, 4, 2, 1, 1]) / 16, atol=0.005)  # fmt: skip
    keep = _vocabulary.sample_thresholds(np.array([1000, 10, 1]), 1e-2) / 2**32
    assert keep[0] < 0.2 and keep[2] == pytest.approx(1.0, abs=1e-6)


def test_vocabulary_matches_gensim():
    gensim = pytest.importorskip("gensim")
    del gensim
    from gensim.models import Word2Vec as GensimWord2Vec

    sentences, _ = _planted_corpus(500, seed=2)
    sentences = [s + ["rare_%d" % (i % 40)] for i, s in enumerate(sentences)]
    ours = Word2Vec(min_count=3, sample=1e-3)
    ours.build_vocab(sentences)
    theirs = GensimWord2Vec(min_count=3, sample=1e-3, workers=1)
    theirs.build_vocab(sentences)
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    assert list(ours.counts) == [theirs.wv.get_vecattr(w, "count") for w in theirs.wv.index_to_key]
    assert list(ours._sample_int) == [theirs.wv.get_vecattr(w, "sample_int") for w in theirs.wv.index_to_key]
    assert ours.corpus_total_words == theirs.corpus_total_words and ours.corpus_count == theirs.corpus_count


def test_corpus_file_and_restartable_iterables(tmp_path):
    sentences, pairs = _planted_corpus(3000, seed=4)
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n", encoding="utf-8")
    from_file = Word2Vec(corpus_file=str(path), vector_size=24, min_count=1, sample=0, sg=1, epochs=10)
    from_list = Word2Vec(sentences, vector_size=24, min_count=1, sample=0, sg=1, epochs=10)
    assert from_file.wv.index_to_key == from_list.wv.index_to_key
    assert from_file.corpus_count == 3000 and from_file.corpus_total_words == sum(map(len, sentences))
    assert _analogy_score(from_file.wv, pairs) >= 0.7

    class Restartable:
        def __iter__(self):
            return iter(sentences)

    streamed = Word2Vec(Restartable(), vector_size=24, min_count=1, sample=0, sg=1, epochs=10)
    assert streamed.wv.index_to_key == from_list.wv.index_to_key
    assert _analogy_score(streamed.wv, pairs) >= 0.7


def test_save_and_load_round_trip(tmp_path):
    sentences, _ = _planted_corpus(1000)
    model = Word2Vec(sentences, vector_size=8, min_count=1, epochs=1, sg=1)
    path = tmp_path / "w2v.npz"
    model.save(path)
    loaded = Word2Vec.load(path)
    assert loaded.wv.index_to_key == model.wv.index_to_key
    assert np.array_equal(loaded.wv.vectors, model.wv.vectors) and np.array_equal(loaded.syn1neg, model.syn1neg)
    assert loaded.sg == 1 and loaded.vector_size == 8 and loaded.corpus_count == 1000
    loaded.train(sentences, epochs=1)  # a loaded model trains on
    assert not np.array_equal(loaded.wv.vectors, model.wv.vectors)
    # Damaged and foreign files: one ValueError naming the file.
    data = path.read_bytes()
    for damaged in (data[: len(data) // 2], b"not a zip", data[:100] + b"\0" * 50 + data[150:]):
        bad = tmp_path / "bad.npz"
        bad.write_bytes(damaged)
        with pytest.raises(ValueError, match="bad.npz"):
            Word2Vec.load(bad)
    np.savez(tmp_path / "other.npz", vectors=np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="not a saved fastembed Word2Vec"):
        Word2Vec.load(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError):
        Word2Vec.load(tmp_path / "missing.npz")
    # A file naming a corpus among its parameters must not make load read it.
    import json as json_module

    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    config = json_module.loads(bytes(arrays["config"]).decode())
    config["params"]["corpus_file"] = str(tmp_path / "secret.txt")
    arrays["config"] = np.frombuffer(json_module.dumps(config).encode(), dtype=np.uint8)
    np.savez(tmp_path / "hostile.npz", **arrays)
    with pytest.raises(ValueError, match="unknown names"):
        Word2Vec.load(tmp_path / "hostile.npz")


def test_bad_corpora_and_parameters_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        Word2Vec([[], []])
    with pytest.raises(TypeError, match="is a str"):
        Word2Vec(["a sentence as a string"])
    with pytest.raises(TypeError, match="holds int"):
        Word2Vec([["a", 1]])
    with pytest.raises(TypeError, match="one-shot iterator"):
        Word2Vec(iter([["a", "b"]]))
    with pytest.raises(ValueError, match="min_count"):
        Word2Vec([["a", "b"]], min_count=5)
    with pytest.raises(ValueError, match="hierarchical softmax"):
        Word2Vec(hs=1)
    with pytest.raises(ValueError, match="vector_size"):
        Word2Vec(vector_size=0)
    with pytest.raises(ValueError, match="sentences or corpus_file"):
        Word2Vec([["a"]], corpus_file="x.txt")
    with pytest.raises(FileNotFoundError, match="corpus_file"):
        Word2Vec(corpus_file=str(tmp_path / "missing.txt"))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 ok\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.txt is not UTF-8: byte 3"):
        Word2Vec(corpus_file=str(bad), min_count=1)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        Word2Vec(corpus_file=str(empty), min_count=1)
    with pytest.raises(RuntimeError, match="build_vocab"):
        Word2Vec().train([["a"]])
    with pytest.raises(ValueError, match="not decrease"):
        _word2vec.train_shared(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32),
                               np.array([0, 1], np.int32), np.array([2, 1], np.int64), np.array([0, 2], np.int64),
                               np.array([0.1], np.float32), np.array([1], np.uint64),
                               np.full(2, 0xFFFFFFFF, np.uint32), np.zeros(2, np.uint32), np.zeros(2, np.int32),
                               np.arange(3, dtype=np.int64), np.arange(2, dtype=np.int32),
                               1, 2, 1, 1, 1, 1, 1)  # fmt: skip
    with pytest.raises(ValueError, match="outside"):
        _word2vec.train_shared(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32),
                               np.array([0, 5], np.int32), np.array([2], np.int64), np.array([0, 1], np.int64),
                               np.array([0.1], np.float32), np.array([1], np.uint64),
                               np.full(2, 0xFFFFFFFF, np.uint32), np.zeros(2, np.uint32), np.zeros(2, np.int32),
                               np.arange(3, dtype=np.int64), np.arange(2, dtype=np.int32),
                               1, 2, 1, 1, 1, 1, 1)  # fmt: skip


def test_keyed_vectors_tools_work_on_the_result(tmp_path):
    sentences, pairs = _planted_corpus(2000)
    model = Word2Vec(sentences, vector_size=16, min_count=1, sg=1, epochs=5)
    model.wv.save_word2vec_format(str(tmp_path / "vectors.txt"))
    assert (tmp_path / "vectors.txt").read_text().startswith("%d 16\n" % len(model.wv.index_to_key))
    assert len(model.wv.most_similar("paris", topn=3)) == 3
    assert os.path.exists(tmp_path / "vectors.txt")


# -- FastText --------------------------------------------------------------------------------
def test_ngram_hashes_match_gensim():
    gensim = pytest.importorskip("gensim")
    del gensim
    from gensim.models.fasttext_inner import ft_hash_bytes
    from gensim.models.fasttext import ft_ngram_hashes

    from fastembed.word2vec import _fasttext

    for word in ["cat", "naïve", "東京", "a", "hello-world", "x" * 12]:
        assert _fasttext.ngram_buckets(word, 3, 6, 2_000_000) == list(ft_ngram_hashes(word, 3, 6, 2_000_000))
        assert _fasttext.ngram_buckets(word, 1, 3, 1000) == list(ft_ngram_hashes(word, 1, 3, 1000))
        assert _fasttext.ngram_hash(word) == ft_hash_bytes(word.encode("utf-8"))


def test_fasttext_learns_and_answers_for_unseen_words(tmp_path):
    from fastembed.word2vec import FastText

    sentences, pairs = _planted_corpus(4000, seed=7)
    model = FastText(sentences, vector_size=24, min_count=1, sample=0, sg=1, epochs=10, bucket=5000, seed=2)
    assert _analogy_score(model.wv, pairs) >= 0.7
    # A vocabulary word's vector is the mean of its own row and its n-gram rows.
    offsets, ids = model._composition
    w = model.wv.key_to_index["paris"]
    np.testing.assert_allclose(model.wv["paris"], model._inputs[ids[offsets[w] : offsets[w + 1]]].mean(axis=0),
                               rtol=1e-5)  # fmt: skip
    # An unseen word shares n-grams with its relatives: "france_9" is not in the corpus.
    assert "france_9" not in model.wv.key_to_index and "france_9" in model.wv
    similar = [w for w, _ in model.wv.most_similar("france_9", topn=10)]
    assert sum(w.startswith("france_") for w in similar) >= 3
    from fastembed.word2vec._fasttext import ngram_buckets

    np.testing.assert_allclose(model.wv["zz"], model.wv.vectors_ngrams[ngram_buckets("zz", 3, 6, 5000)].mean(0),
                               rtol=1e-6)  # fmt: skip
    assert "" not in model.wv and not model.wv.get_vector("").any()  # "<>" has no 3-gram: zeros, as gensim
    path = tmp_path / "ft.npz"
    model.save(path)
    loaded = FastText.load(path)
    assert np.array_equal(loaded.wv["france_9"], model.wv["france_9"])
    assert np.array_equal(loaded.wv.vectors, model.wv.vectors) and loaded.bucket == 5000
    with pytest.raises(ValueError, match="not a saved FastText"):
        FastText.load(_saved_word2vec(tmp_path))
    with pytest.raises(ValueError, match="not a saved Word2Vec"):
        Word2Vec.load(path)


def _saved_word2vec(tmp_path):
    sentences, _ = _planted_corpus(200)
    path = tmp_path / "w2v.npz"
    Word2Vec(sentences, vector_size=4, min_count=1, epochs=1).save(path)
    return path
