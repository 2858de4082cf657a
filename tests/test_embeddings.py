"""fastembed.embeddings: KeyedVectors, its file formats, search, evaluation, PCA and
plots, on small hand-made and planted embeddings (gensim cross-checks are in
test_embeddings_gensim.py)."""

import sys
import warnings

import numpy as np
import pytest

import fastembed
from fastembed.embeddings import KeyedVectors
from fastembed.text import TextVectorizer


@pytest.fixture
def kv(rng):
    return KeyedVectors(rng.standard_normal((5, 4)).astype(np.float32), ["the", "cat", "é", "東京", "a\tb"])


def test_mapping(kv):
    assert len(kv) == 5 and "cat" in kv and "dog" not in kv and kv.vector_size == 4
    np.testing.assert_array_equal(kv["cat"], kv.vectors[1])
    assert kv[["cat", "the"]].shape == (2, 4)
    with pytest.raises(KeyError, match="'dog' is not in the vocabulary"):
        kv["dog"]
    with pytest.raises(ValueError, match="line up"):
        KeyedVectors(np.zeros((2, 3)), ["a"])
    with pytest.raises(ValueError, match="twice"):
        KeyedVectors(np.zeros((2, 3)), ["a", "a"])


def test_from_layer_drops_reserved_rows():
    vectorizer = TextVectorizer().adapt(["b a b", "c"])
    layer = fastembed.layers.Embedding(vectorizer.vocabulary_size(), 3)
    layer.build((None, 4))
    kv = KeyedVectors.from_layer(layer, vectorizer)
    assert kv.index_to_key == ["b", "c", "a"]  # equal counts: descending token, as Keras
    np.testing.assert_array_equal(kv["b"], layer.get_weights()[0][2])
    assert KeyedVectors.from_layer(layer, vectorizer, keep_reserved=True).index_to_key[:2] == ["", "[UNK]"]
    with pytest.raises(ValueError, match="rows"):
        KeyedVectors.from_layer(layer.get_weights()[0][:3], vectorizer)


def test_projector_files_line_up_and_escape(kv, tmp_path):
    vecs, meta = kv.save_projector(str(tmp_path), config=True)
    vec_lines = open(vecs, encoding="utf-8").read().split("\n")[:-1]
    meta_lines = open(meta, encoding="utf-8").read().split("\n")[:-1]
    assert len(vec_lines) == len(meta_lines) == 5
    assert meta_lines[4] == "a\\tb"
    np.testing.assert_array_equal(
        np.array([[float(v) for v in line.split("\t")] for line in vec_lines], dtype=np.float32), kv.vectors
    )
    _, meta = kv.save_projector(str(tmp_path / "m"), metadata={"count": [5, 4, 3, 2, 1]})
    lines = open(meta, encoding="utf-8").read().split("\n")[:-1]
    assert lines[0] == "word\tcount" and lines[1] == "the\t5" and len(lines) == 6
    with pytest.raises(ValueError, match="metadata column"):
        kv.save_projector(str(tmp_path), metadata={"count": [1]})
    assert (tmp_path / "projector_config.pbtxt").exists()


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_round_trip(rng, tmp_path, binary):
    kv = KeyedVectors(rng.standard_normal((6, 5)).astype(np.float32), ["the", "cat", "é", "東京", "x_y", "1"])
    path = str(tmp_path / "vectors.bin")
    kv.save_word2vec_format(path, binary=binary)
    loaded = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert loaded.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)  # %.9g round-trips float32 exactly
    assert KeyedVectors.load_word2vec_format(path, binary=binary, limit=2).index_to_key == ["the", "cat"]
    with open(path, "rb") as handle:
        assert handle.readline() == b"6 5\n"


def test_word2vec_binary_layout_and_c_tool_newlines(tmp_path):
    kv = KeyedVectors(np.array([[1.0, -2.0]], dtype=np.float32), ["hi"])
    path = tmp_path / "v.bin"
    kv.save_word2vec_format(str(path), binary=True)
    assert path.read_bytes() == b"1 2\nhi " + np.array([1.0, -2.0], dtype="<f4").tobytes()
    # The original C tool ends each record with a newline.
    c_tool = tmp_path / "c.bin"
    c_tool.write_bytes(
        b"2 2\na " + np.array([1, 2], "<f4").tobytes() + b"\nb " + np.array([3, 4], "<f4").tobytes() + b"\n"
    )
    loaded = KeyedVectors.load_word2vec_format(str(c_tool), binary=True)
    assert loaded.index_to_key == ["a", "b"] and loaded["b"].tolist() == [3, 4]


def test_glove_text_without_header(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("the 0.1 0.2 0.3\ncat -1 0 1\n", encoding="utf-8")
    kv = KeyedVectors.load_word2vec_format(str(path), no_header=True)
    assert kv.index_to_key == ["the", "cat"] and kv.vectors.shape == (2, 3)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"2 3\nthe 1 2 3\ncat 1 2\n", "line 3: 2 values, expected 3"),
        (b"1 2\nthe 1 x\n", "line 2: a non-numeric"),
        (b"the 1 2\n", "line 1: expected the header"),
        (b"3 2\na 1 2\n", "announces 3 vectors"),
        (b"1 2\n\xff 1 2\n", "line 2: not valid utf-8"),
    ],
)
def test_malformed_text_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        KeyedVectors.load_word2vec_format(str(path))


def test_malformed_binary_files(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(b"2 2\na " + np.array([1, 2], "<f4").tobytes() + b"b " + b"\x00\x00")
    with pytest.raises(ValueError, match="truncated"):
        KeyedVectors.load_word2vec_format(str(path), binary=True)
    path.write_bytes(b"junk\n")
    with pytest.raises(ValueError, match="header"):
        KeyedVectors.load_word2vec_format(str(path), binary=True)
    kv = KeyedVectors(np.zeros((1, 2)), ["two words"])
    with pytest.raises(ValueError, match="whitespace"):
        kv.save_word2vec_format(str(tmp_path / "x.txt"))


# -- search ------------------------------------------------------------------------------
COUNTRIES = ["france", "germany", "italy", "spain", "japan", "egypt", "peru", "canada"]
CAPITALS = ["paris", "berlin", "rome", "madrid", "tokyo", "cairo", "lima", "ottawa"]


@pytest.fixture
def planted():
    """Country i is ``e_i + e_country``, its capital ``e_i + e_capital`` (plus a little
    noise), so that capital_i - country_i + country_j = capital_j; 40 random filler words."""
    rng = np.random.default_rng(7)
    dim = 24
    identity = np.eye(dim)[:8]
    countries = identity + np.eye(dim)[8]
    capitals = identity + np.eye(dim)[9]
    filler = rng.standard_normal((40, dim)) / np.sqrt(dim / 2)
    vectors = np.vstack([countries, capitals, filler]) + 0.02 * rng.standard_normal((56, dim))
    return KeyedVectors(vectors.astype(np.float32), COUNTRIES + CAPITALS + ["w%d" % i for i in range(40)])


def brute_force(kv, query, exclude=(), topn=5):
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    scores = unit @ (query / np.linalg.norm(query))
    order = [i for i in np.argsort(-scores, kind="stable") if kv.index_to_key[i] not in exclude]
    return [(kv.index_to_key[i], float(scores[i])) for i in order[:topn]]


def assert_same_answer(got, want):
    assert [key for key, _ in got] == [key for key, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5, atol=1e-6)


def test_planted_analogies(planted, num_threads):
    for i in range(8):
        for j in range(8):
            if i != j:
                # paris - france + germany = berlin
                assert (
                    planted.most_similar(positive=[CAPITALS[i], COUNTRIES[j]], negative=[COUNTRIES[i]], topn=1)[0][0]
                    == CAPITALS[j]
                )
                assert (
                    planted.most_similar_cosmul(positive=[CAPITALS[i], COUNTRIES[j]], negative=[COUNTRIES[i]], topn=1)[
                        0
                    ][0]
                    == CAPITALS[j]
                )


def test_most_similar_against_brute_force(planted, num_threads):
    kv = planted
    assert_same_answer(kv.most_similar("paris"), brute_force(kv, kv["paris"], {"paris"}, 10))
    query = kv.get_vector("paris", norm=True) + kv.get_vector("germany", norm=True) - kv.get_vector("france", norm=True)
    assert_same_answer(
        kv.most_similar(positive=["paris", "germany"], negative="france", topn=4),
        brute_force(kv, query, {"paris", "germany", "france"}, 4),
    )
    # Weights and raw vectors, as gensim takes them.
    weighted = 2 * kv.get_vector("rome", norm=True) - 0.5 * kv.get_vector("w3", norm=True)
    assert_same_answer(
        kv.most_similar(positive=[("rome", 2.0)], negative=[("w3", -0.5)], topn=3),
        brute_force(kv, weighted, {"rome", "w3"}, 3),
    )
    assert_same_answer(kv.similar_by_vector(kv["lima"], topn=3), brute_force(kv, kv["lima"], (), 3))
    assert kv.similar_by_vector(kv["lima"], topn=1)[0][0] == "lima"
    assert kv.similar_by_key("lima", topn=1) == kv.similar_by_word("lima", topn=1) == kv.most_similar("lima", topn=1)
    restricted = kv.most_similar("paris", topn=20, restrict_vocab=8)
    assert [k for k, _ in restricted] == [
        k for k, _ in brute_force(kv.__class__(kv.vectors[:8], kv.index_to_key[:8]), kv["paris"], (), 8)
    ]
    assert kv.most_similar("paris", topn=0) == []
    assert len(kv.most_similar("paris", topn=1000)) == len(kv) - 1
    everything = kv.most_similar("paris", topn=None)
    assert everything.shape == (len(kv),)
    np.testing.assert_allclose(everything[kv.get_index("paris")], 1.0, rtol=1e-6)


def test_batch_equals_one_by_one(planted, num_threads):
    words = ["paris", "w1", "japan", "w39"]
    batch = planted.most_similar_batch(words, topn=7)
    for word, answer in zip(words, batch):
        assert_same_answer(answer, planted.most_similar(word, topn=7))
    vectors = planted[words]
    for vector, answer in zip(vectors, planted.most_similar_batch(vectors, topn=3, restrict_vocab=30)):
        assert_same_answer(answer, planted.similar_by_vector(vector, topn=3, restrict_vocab=30))


def test_similarity_distances_doesnt_match(planted):
    kv = planted
    a, b = kv["paris"], kv["rome"]
    cosine = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert kv.similarity("paris", "rome") == pytest.approx(cosine, rel=1e-6)
    assert kv.distance("paris", "rome") == pytest.approx(1 - cosine, rel=1e-6)
    np.testing.assert_allclose(kv.distances("paris", ["rome", "paris"]), [1 - cosine, 0], atol=1e-6)
    assert kv.distances(kv["paris"]).shape == (len(kv),)
    np.testing.assert_allclose(kv.cosine_similarities(a, kv[["rome"]]), [cosine], rtol=1e-6)
    # Three capitals and a filler word: the filler is furthest from the capitals' mean.
    assert kv.doesnt_match(["paris", "rome", "madrid", "berlin", "w5"]) == "w5"
    assert kv.doesnt_match(["paris", "rome", "madrid", "berlin", "w5", "unknown"]) == "w5"
    ranked = kv.rank_by_centrality(["paris", "rome", "madrid", "w5"])
    assert ranked[-1][1] == "w5" and [c for c, _ in ranked] == sorted((c for c, _ in ranked), reverse=True)


def test_search_bad_input(planted):
    with pytest.raises(KeyError, match="'atlantis' is not in the vocabulary"):
        planted.most_similar(positive=["paris", "atlantis"])
    with pytest.raises(KeyError, match="atlantis"):
        planted.most_similar_batch(["atlantis"])
    with pytest.raises(KeyError, match="atlantis"):
        planted.similarity("paris", "atlantis")
    with pytest.raises(ValueError, match="at least one"):
        planted.most_similar()
    with pytest.raises(ValueError, match="at least one positive"):
        planted.most_similar_cosmul(negative=["paris"])
    with pytest.raises(ValueError, match="shape"):
        planted.similar_by_vector(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        planted.similar_by_vector(np.full(24, np.nan))
    with pytest.raises(ValueError, match="none of"):
        planted.doesnt_match(["atlantis"])
    with pytest.raises(ValueError, match=r"'b' \(row 1\) holds NaN"):
        KeyedVectors(np.array([[1.0], [np.nan]]), ["a", "b"])


# -- evaluation ------------------------------------------------------------------------------
def write_analogies(path, extra_lines=()):
    lines = [": capital-common-countries"]
    for i in range(4):
        for j in range(4):
            if i != j:
                lines.append(
                    "%s %s %s %s"
                    % (COUNTRIES[i].title(), CAPITALS[i].title(), COUNTRIES[j].title(), CAPITALS[j].title())
                )
    lines.append(": capital-world")
    for i in range(4, 8):
        for j in range(4, 8):
            if i != j:
                lines.append("%s %s %s %s" % (COUNTRIES[i], CAPITALS[i], COUNTRIES[j], CAPITALS[j]))
    lines.extend(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("function", ["most_similar", "most_similar_cosmul"])
def test_evaluate_word_analogies_planted(planted, tmp_path, function):
    path = write_analogies(tmp_path / "questions.txt", ["france paris atlantis x", "only three words"])
    score, sections = planted.evaluate_word_analogies(path, similarity_function=function)
    assert score == 1.0
    assert [s["section"] for s in sections] == ["capital-common-countries", "capital-world", "Total accuracy"]
    assert [len(s["correct"]) for s in sections] == [12, 12, 24]
    assert sections[0]["correct"][0] == ("FRANCE", "PARIS", "GERMANY", "BERLIN")
    assert [s["oov"] for s in sections] == [0, 1, 1]
    # Unknown words count as wrong on request; case-sensitive lookup misses the title case.
    score, sections = planted.evaluate_word_analogies(path, dummy4unknown=True, similarity_function=function)
    assert score == 24 / 25 and len(sections[1]["incorrect"]) == 1
    score, sections = planted.evaluate_word_analogies(path, case_insensitive=False)
    assert sections[0]["oov"] == 12 and sections[-1]["oov"] == 13 and score == 1.0
    # restrict_vocab: only the 8 countries take part, so every question is out of vocabulary.
    score, sections = planted.evaluate_word_analogies(path, restrict_vocab=8)
    assert score == 0.0 and sections[-1]["oov"] == 25


def test_evaluate_word_analogies_matches_one_by_one(tmp_path):
    """Batched answers equal gensim's per-question procedure written out with most_similar."""
    rng = np.random.default_rng(3)
    words = ["w%d" % i for i in range(60)]
    kv = KeyedVectors(rng.standard_normal((60, 8)).astype(np.float32), words)
    lines = [": random"] + [" ".join(rng.choice(words, 4, replace=False)) for _ in range(80)]
    (tmp_path / "q.txt").write_text("\n".join(lines), encoding="utf-8")
    score, sections = kv.evaluate_word_analogies(str(tmp_path / "q.txt"), case_insensitive=False)
    expected_correct = []
    for line in lines[1:]:
        a, b, c, d = line.split()
        answer = kv.most_similar(positive=[b, c], negative=[a], topn=1)[0][0]
        if answer == d:
            expected_correct.append((a, b, c, d))
    assert sections[0]["correct"] == expected_correct
    assert score == len(expected_correct) / 80


def test_evaluate_word_analogies_bad_files(planted, tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("paris france rome italy\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1: a question before the first"):
        planted.evaluate_word_analogies(str(path))
    path.write_bytes(b": s\n\xff\xfe a b c\n")
    with pytest.raises(ValueError, match="line 2: not valid utf-8"):
        planted.evaluate_word_analogies(str(path))
    with pytest.raises(OSError, match="missing.txt"):
        planted.evaluate_word_analogies(str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="similarity_function"):
        planted.evaluate_word_analogies(str(path), similarity_function="3cosadd")


def test_evaluate_word_pairs(planted, tmp_path):
    pairs = [
        ("paris", "rome"),
        ("paris", "w1"),
        ("france", "germany"),
        ("japan", "tokyo"),
        ("w2", "w3"),
        ("cairo", "egypt"),
        ("lima", "w9"),
    ]
    model = [planted.similarity(a, b) for a, b in pairs]
    gold = [10 * (s + 1) for s in model]  # a monotonic, linear function of the model's similarity
    lines = ["# a comment", "Word 1\tWord 2\tHuman (mean)"] + [
        "%s\t%s\t%.6f" % (a.upper(), b, g) for (a, b), g in zip(pairs, gold)
    ]
    lines.append("atlantis\tparis\t5.0")
    (tmp_path / "pairs.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pearson, spearman, oov_ratio = planted.evaluate_word_pairs(str(tmp_path / "pairs.tsv"))
    assert pearson.statistic == pytest.approx(1.0, abs=1e-6) and spearman[0] == pytest.approx(1.0)
    assert spearman.pvalue < 1e-3
    assert oov_ratio == pytest.approx(100 / 8)
    _, _, oov_ratio = planted.evaluate_word_pairs(str(tmp_path / "pairs.tsv"), dummy4unknown=True)
    assert oov_ratio == pytest.approx(100 / 8)
    (tmp_path / "none.tsv").write_text("atlantis\tparis\t5.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no valid word pair"):
        planted.evaluate_word_pairs(str(tmp_path / "none.tsv"))


def test_correlation_statistics_against_known_values():
    from fastembed.embeddings._evaluation import _average_ranks, pearson_correlation, regularized_incomplete_beta

    # I_x(a, a) at x = 1/2 is 1/2; I_x(1, 1) = x; I_x(a, 1) = x^a.
    assert regularized_incomplete_beta(3.5, 3.5, 0.5) == pytest.approx(0.5, abs=1e-12)
    assert regularized_incomplete_beta(1, 1, 0.3) == pytest.approx(0.3, abs=1e-12)
    assert regularized_incomplete_beta(2.5, 1, 0.7) == pytest.approx(0.7**2.5, abs=1e-12)
    # n = 10, r = 0.6319 is the textbook two-sided 5% critical value of Pearson's r.
    x = np.arange(10.0)
    noise = np.array([1, -1, 2, -2, 0, 1, -1, 2, -2, 0.0])
    result = pearson_correlation(x, x + 3.0 * noise)
    assert result.statistic == pytest.approx(np.corrcoef(x, x + 3.0 * noise)[0, 1])
    t = result.statistic * np.sqrt(8 / (1 - result.statistic**2))
    assert (result.pvalue < 0.05) == (abs(t) > 2.306)  # t(8) two-sided 5% critical value
    assert np.isnan(pearson_correlation([1, 2, 3, 4], [1, 1, 1, 1]).statistic)  # a constant sample
    two = pearson_correlation([1, 2], [2, 1])
    assert two.statistic == pytest.approx(-1.0) and np.isnan(two.pvalue)  # no degrees of freedom
    np.testing.assert_array_equal(_average_ranks(np.array([3.0, 1.0, 3.0, 2.0])), [3.5, 1, 3.5, 2])
    try:
        from scipy import stats
    except ImportError:
        return
    rng = np.random.default_rng(0)
    for n in (3, 5, 30, 353):
        a, b = rng.standard_normal(n), rng.standard_normal(n)
        want = stats.pearsonr(a, b)
        got = pearson_correlation(a, b)
        assert got.statistic == pytest.approx(want.statistic, abs=1e-12)
        assert got.pvalue == pytest.approx(want.pvalue, rel=1e-9, abs=1e-14)


# -- PCA and plots ---------------------------------------------------------------------------
def test_pca_against_svd(planted):
    result = planted.pca(3)
    centred = planted.vectors.astype(np.float64) - planted.vectors.mean(axis=0, dtype=np.float64)
    _, singular_values, vt = np.linalg.svd(centred, full_matrices=False)
    variance = singular_values**2
    np.testing.assert_allclose(result.explained_variance_ratio, variance[:3] / variance.sum(), rtol=1e-6)
    for component, reference_component in zip(result.components, vt[:3]):
        np.testing.assert_allclose(abs(component @ reference_component), 1.0, rtol=1e-6)
        assert component[np.argmax(np.abs(component))] > 0
    np.testing.assert_allclose(result.coordinates, centred @ result.components.T, rtol=1e-4, atol=1e-4)
    assert result.keys == planted.index_to_key and result.coordinates.shape == (len(planted), 3)
    subset = planted.pca(2, words=["paris", "rome", "w1"])
    assert subset.coordinates.shape == (3, 2) and subset.keys == ["paris", "rome", "w1"]
    with pytest.raises(ValueError, match="n_components"):
        planted.pca(25)
    with pytest.raises(KeyError, match="atlantis"):
        planted.pca(2, words=["atlantis", "paris"])


def test_plot_html_is_self_contained(planted, tmp_path):
    kv = KeyedVectors(planted.vectors[:3], ["<b>", "a&b", 'qu"ote'])
    path = kv.plot(str(tmp_path / "embedding.html"), title="Test <plot>")
    page = open(path, encoding="utf-8").read()
    assert "&lt;b&gt;" in page and "a&amp;b" in page and "qu&quot;ote" in page and "<b>" not in page
    assert page.count("<circle") == 3 and 'id="search"' in page and "Test &lt;plot&gt;" in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from the network
    assert "PC1 (" in page
    with pytest.raises(ValueError, match="method"):
        kv.plot(str(tmp_path / "x.html"), method="tsne")


def test_plot_png_with_matplotlib(planted, tmp_path):
    pytest.importorskip("matplotlib")
    path = planted.plot(str(tmp_path / "embedding.png"), words=CAPITALS)
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_falls_back_to_html_without_matplotlib(planted, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = planted.plot(str(tmp_path / "embedding.png"))
    assert path.endswith("embedding.html") and "matplotlib is not installed" in str(caught[0].message)
    assert open(path, encoding="utf-8").read().count("<circle") == len(planted)


def test_a_word2vec_header_claiming_more_than_the_file_holds(tmp_path):
    """Issue 12: a binary header claiming 10**12 rows raised MemoryError, not ValueError."""
    path = tmp_path / "huge.bin"
    path.write_bytes(b"1000000000000 100\nword " + np.zeros(100, np.float32).tobytes())
    with pytest.raises(ValueError, match="header announces"):
        KeyedVectors.load_word2vec_format(str(path), binary=True)


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_files_keep_tokens_with_unicode_whitespace(tmp_path, binary):
    """Issue 12: the IMDB vocabulary holds '\\x85', and exporting a default IMDB run to the
    word2vec format failed. Only ASCII whitespace separates fields there."""
    keys = ["a\x85b", "\u2028", "plain", "\x85"]
    kv = KeyedVectors(np.arange(8, dtype=np.float32).reshape(4, 2), keys)
    path = tmp_path / ("v.bin" if binary else "v.txt")
    kv.save_word2vec_format(str(path), binary=binary)
    loaded = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert loaded.index_to_key == keys
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)
    with pytest.raises(ValueError, match="ASCII whitespace"):
        KeyedVectors(np.zeros((1, 2), np.float32), ["two words"]).save_word2vec_format(str(path), binary=binary)
