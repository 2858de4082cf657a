"""fastembed.search.top_k_similar (blocked BLAS products + the _search merge kernel)
against its NumPy twin: ties, exclusions, restricted ranges, 3CosMul, several row blocks
and several worker threads."""

import numpy as np
import pytest

import fastembed
from fastembed import reference, search
from fastembed._validation import inverse_norms


def unit_rows(matrix):
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture(params=["one block", "many blocks and workers"])
def blocking(request, monkeypatch):
    """Run with the real block sizes, and with tiny ones so that queries and rows span
    several blocks and the rows are split between worker threads."""
    if request.param != "one block":
        monkeypatch.setattr(search, "BLOCK_ELEMENTS", 64)
        monkeypatch.setattr(search, "MIN_ROWS_PER_WORKER", 1)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cosmul", [False, True])
def test_matches_twin(rng, num_threads, blocking, dtype, cosmul):
    # Small integers make many exactly tied scores: the order of ties is part of the
    # contract. (Integer terms, not unit ones, keep every dot product exact, so kernel and
    # twin see the same scores whatever the BLAS blocking.)
    table = rng.integers(-2, 3, size=(700, 6)).astype(dtype)
    table[5] = 0  # a zero row scores 0, never NaN
    n_queries, n_pos, n_neg = 37, 2, 1
    n_terms = n_pos + n_neg if cosmul else 1
    terms = rng.integers(-2, 3, size=(n_queries * n_terms, 6)).astype(dtype)
    exclude = rng.integers(-1, 700, size=(n_queries, 3))
    for k, stop in [(10, None), (1, 300), (700, None), (900, 50), (0, None)]:
        got = search.top_k_similar(
            table, terms, k, n_positive=n_pos, n_negative=n_neg, cosmul=cosmul, exclude=exclude, stop=stop
        )
        want = reference.top_k_similar(
            table, terms, k, n_positive=n_pos, n_negative=n_neg, cosmul=cosmul, exclude=exclude, stop=stop
        )
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5 if dtype == np.float32 else 1e-12)
        limit = table.shape[0] if stop is None else stop
        for q in range(n_queries):
            assert not set(got[1][q].tolist()) & set(exclude[q].tolist()) - {-1}
            assert (got[1][q][got[1][q] >= 0] < limit).all()


def test_same_answer_for_any_thread_count(rng, monkeypatch):
    table = rng.standard_normal((5000, 16)).astype(np.float32)
    terms = unit_rows(rng.standard_normal((50, 16)).astype(np.float32))
    monkeypatch.setattr(search, "MIN_ROWS_PER_WORKER", 1)
    monkeypatch.setattr(search, "BLOCK_ELEMENTS", 50 * 300)  # 17 blocks of 300 rows
    with fastembed.threads(1):
        one = search.top_k_similar(table, terms, 20)
    with fastembed.threads(2):
        two = search.top_k_similar(table, terms, 20)
    np.testing.assert_array_equal(one[1], two[1])
    np.testing.assert_array_equal(one[0], two[0])


def test_random_table_against_brute_force(rng):
    table = rng.standard_normal((3000, 32)).astype(np.float32)
    terms = unit_rows(rng.standard_normal((8, 32)).astype(np.float32))
    scores, rows = search.top_k_similar(table, terms, 5)
    cosines = unit_rows(table) @ terms.T
    np.testing.assert_array_equal(rows, np.argsort(-cosines, axis=0)[:5].T)
    np.testing.assert_allclose(scores, np.sort(cosines, axis=0)[::-1][:5].T, rtol=1e-5)


def test_inverse_norms():
    np.testing.assert_allclose(inverse_norms(np.array([[3.0, 4.0], [0.0, 0.0]])), [0.2, 0.0])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(table=np.zeros((3, 2), dtype=np.int64)), TypeError, "float32 or float64"),
        (dict(terms=np.zeros((2, 3))), ValueError, "terms must have shape"),
        (dict(k=-1), ValueError, "k must be"),
        (dict(cosmul=True, n_positive=2, n_negative=1), ValueError, "do not split"),
        (dict(cosmul=True, n_positive=0), ValueError, "term counts"),
        (dict(exclude=np.zeros((5, 1))), ValueError, "exclude must have shape"),
        (dict(inv_norms=np.ones(2)), ValueError, "inv_norms"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    arguments = dict(table=np.ones((3, 2)), terms=np.ones((2, 2)), k=2)
    arguments.update(kwargs)
    for function in (search.top_k_similar, reference.top_k_similar):
        with pytest.raises(error, match=message):
            function(**arguments)
