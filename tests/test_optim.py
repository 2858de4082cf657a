"""Sparse optimizer kernels: against the NumPy twins, fused against unfused, lazy
semantics, and PyTorch's SparseAdam / SGD / Adagrad when PyTorch is installed."""

import numpy as np
import pytest

import fastembed
from fastembed import ops, reference
from helpers import random_padded_ids, random_table, tolerance

OPTIMIZERS = [
    (fastembed.SparseSGD, dict(learning_rate=0.1)),
    (fastembed.SparseSGD, dict(learning_rate=0.1, momentum=0.9)),
    (fastembed.SparseSGD, dict(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (fastembed.SparseAdagrad, dict(learning_rate=0.1, initial_accumulator_value=0.1)),
    (fastembed.SparseRowwiseAdagrad, dict(learning_rate=0.1)),
    (fastembed.SparseRMSprop, dict(learning_rate=0.01, weight_decay=0.01)),
    (fastembed.SparseAdam, dict()),
    (fastembed.SparseAdam, dict(learning_rate=0.01, weight_decay=0.1, max_norm=1.0)),
]
IDS = ["sgd", "momentum", "nesterov-wd", "adagrad", "rowwise", "rmsprop", "adam", "adam-wd-maxnorm"]


def _batches(rng, steps, num_rows, dim, dtype):
    for _ in range(steps):
        ids = random_padded_ids(rng, 6, 9, num_rows, np.int64)
        yield ids, rng.standard_normal((6, dim)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=IDS)
def test_fused_unfused_and_twin_agree(rng, num_threads, dtype, cls, kwargs):
    table = random_table(rng, 30, 8, dtype)
    fused, unfused, twin = table.copy(), table.copy(), table.copy()
    opt_fused, opt_unfused, opt_twin = cls(**kwargs), cls(**kwargs), cls(**kwargs)
    for ids, grad in _batches(rng, 4, 30, 8, dtype):
        ops.embedding_bag_backward_update(fused, grad, ids, padding_idx=0, optimizer=opt_fused)
        ops.sparse_update(unfused, ops.embedding_bag_backward(grad, ids, padding_idx=0, weights=unfused), opt_unfused)
        reference.embedding_bag_backward_update(twin, grad, ids, padding_idx=0, optimizer=opt_twin)
    # Fused and unfused run the same arithmetic in the same order.
    assert np.array_equal(fused, unfused)
    np.testing.assert_allclose(fused, twin, **tolerance(dtype))
    for name in opt_fused.state_names:
        np.testing.assert_allclose(getattr(opt_fused, name), getattr(opt_twin, name), **tolerance(dtype))
    assert opt_fused.iterations == opt_twin.iterations == 4


@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=IDS)
def test_lookup_backward_update_matches_twin(rng, num_threads, cls, kwargs):
    table = random_table(rng, 12, 5, np.float64)
    a, b = table.copy(), table.copy()
    opt_a, opt_b = cls(**kwargs), cls(**kwargs)
    for _ in range(3):
        ids = rng.integers(0, 12, size=(4, 3))
        grad = rng.standard_normal((4, 3, 5))
        ops.embedding_lookup_backward_update(a, grad, ids, optimizer=opt_a)
        reference.embedding_lookup_backward_update(b, grad, ids, optimizer=opt_b)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=IDS)
def test_updates_are_lazy(rng, cls, kwargs):
    """Rows (and their state) that a step does not touch stay exactly as they were."""
    table = random_table(rng, 20, 4, np.float32)
    opt = cls(**kwargs)
    ops.embedding_bag_backward_update(table, np.ones((1, 4), np.float32), [[1, 2]], optimizer=opt)
    before = table.copy()
    states = {name: getattr(opt, name).copy() for name in opt.state_names}
    ops.embedding_bag_backward_update(table, np.ones((1, 4), np.float32), [[3, 0]], padding_idx=0, optimizer=opt)
    untouched = np.setdiff1d(np.arange(20), [3])
    assert np.array_equal(table[untouched], before[untouched])
    assert not np.array_equal(table[3], before[3])
    for name, state in states.items():
        rows = untouched if state.ndim else slice(None)
        assert np.array_equal(getattr(opt, name)[rows], state[rows])


def test_rowwise_adagrad_keeps_one_value_per_row(rng):
    table = random_table(rng, 50, 16, np.float32)
    opt = fastembed.SparseRowwiseAdagrad()
    ops.embedding_bag_backward_update(
        table, rng.standard_normal((2, 16)).astype(np.float32), [[1, 2], [2, 3]], optimizer=opt
    )
    assert opt.row_state.shape == (50,) and opt.state1 is None


def test_max_norm_caps_updated_rows(rng):
    table = random_table(rng, 10, 6, np.float64) * 10
    opt = fastembed.SparseSGD(learning_rate=1e-3, max_norm=1.0)
    ops.embedding_bag_backward_update(table, np.ones((1, 6)), [[2, 5]], optimizer=opt)
    norms = np.linalg.norm(table, axis=1)
    assert np.all(norms[[2, 5]] <= 1.0 + 1e-6)
    assert np.all(norms[[0, 1, 3]] > 1.0), "untouched rows are not renormalised"


def test_adam_state_roundtrip_gives_identical_continuation(rng):
    table = random_table(rng, 40, 8, np.float32)
    batches = list(_batches(rng, 6, 40, 8, np.float32))
    straight, opt = table.copy(), fastembed.SparseAdam()
    for ids, grad in batches:
        ops.embedding_bag_backward_update(straight, grad, ids, padding_idx=0, optimizer=opt)
    resumed, first = table.copy(), fastembed.SparseAdam()
    for ids, grad in batches[:3]:
        ops.embedding_bag_backward_update(resumed, grad, ids, padding_idx=0, optimizer=first)
    second = fastembed.SparseAdam()
    second.set_state({k: np.array(v) for k, v in first.get_state().items()})
    for ids, grad in batches[3:]:
        ops.embedding_bag_backward_update(resumed, grad, ids, padding_idx=0, optimizer=second)
    assert np.array_equal(straight, resumed)


def test_training_is_bitwise_identical_across_thread_counts(rng):
    table = random_table(rng, 3000, 16, np.float32)
    ids = (rng.zipf(1.1, size=(20, 64, 50)) % 3000).astype(np.int64)
    grads = rng.standard_normal((20, 64, 16)).astype(np.float32)
    results = []
    for n in (1, 2, 4):
        weights, opt = table.copy(), fastembed.SparseAdam()
        with fastembed.threads(n):
            for step in range(20):
                ops.embedding_bag_backward_update(weights, grads[step], ids[step], padding_idx=0, optimizer=opt)
        results.append(weights)
    assert np.array_equal(results[0], results[1]) and np.array_equal(results[0], results[2])


def test_optimizer_is_bound_to_one_table(rng):
    opt = fastembed.SparseAdam()
    ops.embedding_bag_backward_update(
        random_table(rng, 10, 4, np.float32), np.ones((1, 4), np.float32), [[1]], optimizer=opt
    )
    with pytest.raises(ValueError, match="one optimizer object per table"):
        ops.embedding_bag_backward_update(
            random_table(rng, 11, 4, np.float32), np.ones((1, 4), np.float32), [[1]], optimizer=opt
        )


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(learning_rate=0), "learning_rate"),
        (dict(learning_rate=float("nan")), "finite"),
        (dict(beta_1=1.0), "beta_1"),
        (dict(weight_decay=-1), "weight_decay"),
        (dict(max_norm=0), "max_norm"),
        (dict(learning_rate="fast"), "number"),
    ],
)
def test_bad_hyperparameters(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        fastembed.SparseAdam(**kwargs)


def test_nesterov_needs_momentum():
    with pytest.raises(ValueError, match="momentum"):
        fastembed.SparseSGD(nesterov=True)


def _torch():
    try:
        import torch
    except ImportError:
        pytest.skip("PyTorch is not installed (optional cross-check)")
    return torch


@pytest.mark.parametrize("name", ["sparse_adam", "sgd_momentum", "adagrad", "rmsprop"])
def test_matches_pytorch(rng, name):
    torch = _torch()
    num_rows, dim = 50, 8
    table = random_table(rng, num_rows, dim, np.float64)
    ours = table.copy()
    param = torch.nn.Parameter(torch.from_numpy(table.copy()))
    if name == "sparse_adam":
        opt_ours = fastembed.SparseAdam(learning_rate=0.01)
        opt_torch = torch.optim.SparseAdam([param], lr=0.01)
    elif name == "sgd_momentum":
        opt_ours = fastembed.SparseSGD(learning_rate=0.1, momentum=0.9)
        opt_torch = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    elif name == "rmsprop":
        # torch's RMSprop has no sparse path: compare a single (dense-equivalent) step.
        opt_ours = fastembed.SparseRMSprop(learning_rate=0.01, rho=0.9, epsilon=1e-8)
        opt_torch = torch.optim.RMSprop([param], lr=0.01, alpha=0.9, eps=1e-8)
    else:
        opt_ours = fastembed.SparseAdagrad(learning_rate=0.1)
        opt_torch = torch.optim.Adagrad([param], lr=0.1)
    for step in range(5):
        flat = rng.integers(0, num_rows, size=30)
        offsets = np.array([0, 7, 7, 19, 30])
        grad = rng.standard_normal((4, dim))
        ops.embedding_bag_backward_update(ours, grad, flat, offsets, mode="mean", optimizer=opt_ours)
        out = torch.nn.functional.embedding_bag(
            torch.from_numpy(flat), param, torch.from_numpy(offsets[:-1]), mode="mean", sparse=True
        )
        out.backward(torch.from_numpy(grad))
        if name in ("sgd_momentum", "rmsprop"):
            # not lazy in torch on sparse grads: compare one step, densified
            param.grad = param.grad.to_dense()
        opt_torch.step()
        opt_torch.zero_grad()
        if name in ("sgd_momentum", "rmsprop"):
            break
    np.testing.assert_allclose(ours, param.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=IDS)
@pytest.mark.parametrize("shape", [(7,), (5, 4), (3, 2, 2)])
def test_dense_update_matches_twin(rng, num_threads, cls, kwargs, shape):
    if cls is fastembed.SparseRowwiseAdagrad and len(shape) == 1:
        pytest.skip("row-wise state for a bias is one value: covered by the 2-D cases")
    param = rng.standard_normal(shape)
    ours, twin = param.copy(), param.copy()
    opt_ours, opt_twin = cls(**kwargs), cls(**kwargs)
    for _ in range(3):
        grad = rng.standard_normal(shape)
        ops.dense_update(ours, grad, opt_ours)
        reference.dense_update(twin, grad, opt_twin)
    np.testing.assert_allclose(ours, twin, rtol=1e-12, atol=1e-12)


def test_dense_update_bad_input():
    param = np.zeros((3, 2), np.float32)
    opt = fastembed.SparseAdam()
    with pytest.raises(ValueError, match="shape"):
        ops.dense_update(param, np.zeros((2, 3), np.float32), opt)
    with pytest.raises(TypeError, match="one float type"):
        ops.dense_update(param, np.zeros((3, 2)), opt)
    with pytest.raises(ValueError, match="nan"):
        ops.dense_update(param, np.full((3, 2), np.nan, np.float32), opt)
    with pytest.raises(ValueError, match="C-contiguous"):
        ops.dense_update(np.zeros((3, 2), np.float32).T, np.zeros((2, 3), np.float32), opt)
    assert np.all(param == 0) and opt.iterations == 0


def test_hyperparameters_are_fixed_after_construction():
    """Issue 12's crash: a momentum set after construction made the kernel write through a
    momentum buffer that was never allocated. Hyper-parameters are now read-only; the
    learning rate stays settable and is validated."""
    table = np.zeros((4, 3), np.float32)
    grad = fastembed.SparseRows([1], np.ones((1, 3), np.float32), 4)
    rule = fastembed.SparseSGD(0.1)
    with pytest.raises(AttributeError, match="momentum is fixed at construction"):
        rule.momentum = 0.9
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        rule.learning_rate = -1.0
    rule.learning_rate = 0.5
    fastembed.ops.sparse_update(table, grad, rule)
    np.testing.assert_array_equal(table[1], [-0.5, -0.5, -0.5])
    for optimizer, name in (
        (fastembed.SparseAdam(), "beta_1"),
        (fastembed.SparseRMSprop(), "rho"),
        (fastembed.SparseAdagrad(), "epsilon"),
        (fastembed.optimizers.SGD(), "nesterov"),
        (fastembed.optimizers.Adam(), "embedding_updates"),
        (fastembed.optimizers.Adam(), "repeated_ids"),
    ):
        with pytest.raises(AttributeError, match="fixed at construction"):
            setattr(optimizer, name, getattr(optimizer, name))
    keras_adam = fastembed.optimizers.Adam()
    keras_adam.learning_rate = 1e-2
    assert keras_adam.learning_rate == 1e-2

    class Annotated(fastembed.optimizers.Adam):  # a subclass may still add its own attributes
        def __init__(self):
            super().__init__()
            self.note = "mine"

    assert Annotated().note == "mine"


def test_rule_codes_come_from_the_kernel():
    from fastembed._kernels import _optim

    for cls in (
        fastembed.SparseSGD,
        fastembed.SparseAdagrad,
        fastembed.SparseRowwiseAdagrad,
        fastembed.SparseRMSprop,
        fastembed.SparseAdam,
    ):
        assert cls().kind == _optim.RULE_CODES[cls.rule_name]
    assert len(set(_optim.RULE_CODES.values())) == 5


_SQUARE_RULES = {
    "adam": lambda: fastembed.SparseAdam(1e-2),
    "rmsprop": lambda: fastembed.SparseRMSprop(1e-2, epsilon_inside_sqrt=True),
    "adagrad": lambda: fastembed.SparseAdagrad(1e-2, initial_accumulator_value=0.1, epsilon_inside_sqrt=True),
    "rowwise_adagrad": lambda: fastembed.SparseRowwiseAdagrad(1e-2),
    "adam_decay": lambda: fastembed.SparseAdam(1e-2, weight_decay=0.1),
}


@pytest.mark.parametrize("name", sorted(_SQUARE_RULES))
def test_per_occurrence_squares_match_the_twin(rng, name, num_threads):
    """ops.sparse_update / dense_update with ``squares`` (Keras' rule for repeated ids)
    against the NumPy twin, over three steps; squares >= g**2 / n as real ones are."""
    table = rng.standard_normal((20, 8)).astype(np.float32)
    twin_table = table.copy()
    kernel_rule, twin_rule = _SQUARE_RULES[name](), _SQUARE_RULES[name]()
    for _ in range(3):
        rows = np.sort(rng.choice(20, size=7, replace=False))
        values = rng.standard_normal((7, 8)).astype(np.float32)
        squares = (values**2 * rng.uniform(0.3, 1.0, size=(7, 1))).astype(np.float32)
        grad = fastembed.SparseRows(rows, values, 20)
        ops.sparse_update(table, grad, kernel_rule, squares=squares)
        reference.sparse_update(twin_table, grad, twin_rule, squares=squares)
        np.testing.assert_allclose(table, twin_table, rtol=1e-5, atol=1e-6)
    dense_grad = rng.standard_normal((20, 8)).astype(np.float32)
    ops.dense_update(table, dense_grad, kernel_rule, squares=dense_grad**2 * 0.5)
    reference.dense_update(twin_table, dense_grad, twin_rule, squares=dense_grad**2 * 0.5)
    np.testing.assert_allclose(table, twin_table, rtol=1e-5, atol=1e-6)


def test_squares_change_the_step_and_are_checked(rng):
    table = np.zeros((4, 2), np.float32)
    grad = fastembed.SparseRows([1], np.array([[1.0, 1.0]], np.float32), 4)
    ops.sparse_update(table, grad, fastembed.SparseAdam(1e-3), squares=np.array([[0.25, 1.0]], np.float32))
    # First Adam step: lr * m_hat / sqrt(v_hat) = lr * g / sqrt(sq).
    np.testing.assert_allclose(table[1], [-2e-3, -1e-3], rtol=1e-4)
    for bad, message in (
        (np.array([[-1.0, 1.0]], np.float32), "negative"),
        (np.array([[np.nan, 1.0]], np.float32), "squares contains nan"),
        (np.ones((2, 2), np.float32), "must match"),
        (np.ones((1, 2), np.float64), "must match"),
    ):
        with pytest.raises(ValueError, match=message):
            ops.sparse_update(table, grad, fastembed.SparseAdam(), squares=bad)


def test_epsilon_inside_sqrt_is_keras_placement():
    """Keras' RMSprop and Adagrad divide by sqrt(v + eps); PyTorch's by sqrt(v) + eps."""
    for inside in (False, True):
        table = np.zeros((1, 1), np.float32)
        rule = fastembed.SparseRMSprop(1.0, rho=0.0, epsilon=0.5, epsilon_inside_sqrt=inside)
        ops.dense_update(table, np.ones((1, 1), np.float32), rule)
        np.testing.assert_allclose(table[0, 0], -1 / (np.sqrt(1.5) if inside else 1.5), rtol=1e-6)
