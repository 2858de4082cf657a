"""Cross-checks against gensim (an optional test dependency; skipped without it): files
travel both ways with identical vectors, and search and evaluation give gensim's answers
on gensim's own test files (questions-words.txt, wordsim353.tsv)."""

import numpy as np
import pytest

from fastembed.embeddings import KeyedVectors

gensim_models = pytest.importorskip("gensim.models")
gensim_utils = pytest.importorskip("gensim.test.utils")


@pytest.fixture(scope="module")
def vectors_pair():
    """The same random vectors in fastembed and in gensim, keyed by the words of gensim's
    evaluation files (lower case, so case folding matters) plus some filler."""
    words = []
    with open(gensim_utils.datapath("questions-words.txt"), encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith(":"):
                words.extend(word.lower() for word in line.split())
    with open(gensim_utils.datapath("wordsim353.tsv"), encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                words.extend(word.lower() for word in line.split("\t")[:2])
    words = list(dict.fromkeys(words)) + ["filler%d" % i for i in range(500)]
    vectors = np.random.default_rng(11).standard_normal((len(words), 32)).astype(np.float32)
    theirs = gensim_models.KeyedVectors(32)
    theirs.add_vectors(words, vectors)
    return KeyedVectors(vectors, words), theirs


def assert_same(ours, theirs):
    assert [key for key, _ in ours] == [key for key, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("binary", [False, True])
def test_files_travel_both_ways(vectors_pair, tmp_path, binary):
    ours, theirs = vectors_pair
    our_file, their_file = str(tmp_path / "ours"), str(tmp_path / "theirs")
    ours.save_word2vec_format(our_file, binary=binary)
    loaded = gensim_models.KeyedVectors.load_word2vec_format(our_file, binary=binary)
    assert loaded.index_to_key == ours.index_to_key
    np.testing.assert_array_equal(loaded.vectors, ours.vectors)
    theirs.save_word2vec_format(their_file, binary=binary)
    loaded = KeyedVectors.load_word2vec_format(their_file, binary=binary)
    assert loaded.index_to_key == theirs.index_to_key
    np.testing.assert_array_equal(loaded.vectors, theirs.vectors)
    if binary:
        with open(our_file, "rb") as a, open(their_file, "rb") as b:
            assert a.read() == b.read()  # byte for byte


def test_search_gives_gensims_answers(vectors_pair, num_threads):
    ours, theirs = vectors_pair
    for word in ["king", "paris", "love", "filler7"]:
        assert_same(ours.most_similar(word, topn=10), theirs.most_similar(word, topn=10))
        assert_same(
            ours.most_similar(word, topn=5, restrict_vocab=300), theirs.most_similar(word, topn=5, restrict_vocab=300)
        )
    question = dict(positive=["king", "woman"], negative=["man"], topn=5)
    assert_same(ours.most_similar(**question), theirs.most_similar(**question))
    assert_same(ours.most_similar_cosmul(**question), theirs.most_similar_cosmul(**question))
    assert_same(ours.similar_by_vector(ours["tiger"], topn=4), theirs.similar_by_vector(theirs["tiger"], topn=4))
    np.testing.assert_allclose(
        ours.most_similar("king", topn=None), theirs.most_similar("king", topn=None), rtol=1e-5, atol=1e-6
    )
    words = ["king", "queen", "man", "woman", "tiger"]
    assert ours.doesnt_match(words) == theirs.doesnt_match(words)
    np.testing.assert_allclose(ours.distances("king", words), theirs.distances("king", words), rtol=1e-5, atol=1e-6)
    assert ours.similarity("king", "queen") == pytest.approx(float(theirs.similarity("king", "queen")), rel=1e-5)


@pytest.mark.parametrize("restrict_vocab", [300000, 700])
def test_evaluate_word_analogies_gives_gensims_answers(vectors_pair, restrict_vocab):
    ours, theirs = vectors_pair
    path = gensim_utils.datapath("questions-words.txt")
    our_score, our_sections = ours.evaluate_word_analogies(path, restrict_vocab=restrict_vocab)
    their_score, their_sections = theirs.evaluate_word_analogies(path, restrict_vocab=restrict_vocab)
    assert our_score == their_score
    assert [s["section"] for s in our_sections] == [s["section"] for s in their_sections]
    for ours_section, theirs_section in zip(our_sections, their_sections):
        assert ours_section["correct"] == [tuple(q) for q in theirs_section["correct"]]
        assert ours_section["incorrect"] == [tuple(q) for q in theirs_section["incorrect"]]


def test_evaluate_word_pairs_gives_gensims_answers(vectors_pair):
    ours, theirs = vectors_pair
    path = gensim_utils.datapath("wordsim353.tsv")
    (our_pearson, our_spearman, our_oov), (their_pearson, their_spearman, their_oov) = (
        ours.evaluate_word_pairs(path),
        theirs.evaluate_word_pairs(path),
    )
    assert our_oov == their_oov
    assert our_pearson[0] == pytest.approx(their_pearson[0], abs=1e-6)
    assert our_pearson[1] == pytest.approx(their_pearson[1], rel=1e-4)
    # Float32 rounding can swap model similarities closer than 1e-7, moving a rank or two.
    assert our_spearman[0] == pytest.approx(their_spearman[0], abs=1e-4)
    assert our_spearman[1] == pytest.approx(their_spearman[1], rel=1e-2, abs=1e-4)
    # With a quarter of the vocabulary, some pairs become out of vocabulary.
    ours_small = ours.evaluate_word_pairs(path, restrict_vocab=len(ours) // 4)
    theirs_small = theirs.evaluate_word_pairs(path, restrict_vocab=len(ours) // 4)
    assert ours_small[2] == pytest.approx(theirs_small[2]) and ours_small[2] > 0
