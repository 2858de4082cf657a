"""Shared fixtures. The suite refuses to run against uncompiled code: a run that silently
imported the pure-NumPy fallback would test the oracle against itself."""

import os

import numpy as np
import pytest

import fastembed


def pytest_report_header(config):
    cfg = fastembed.show_config()
    return "fastembed %s from %s: compiled=%s openmp=%s threads=%d" % (
        cfg["version"],
        os.path.dirname(fastembed.__file__),
        cfg["compiled"],
        cfg["openmp"],
        cfg["num_threads"],
    )


def pytest_sessionstart(session):
    if os.environ.get("FASTEMBED_ALLOW_UNCOMPILED") == "1":
        return
    cfg = fastembed.show_config()
    if not cfg["compiled"]:
        pytest.exit(
            "fastembed was imported from %s without its compiled kernels (%s). Build it "
            "(`pip install .`) or set FASTEMBED_ALLOW_UNCOMPILED=1 to test the fallback."
            % (os.path.dirname(fastembed.__file__), cfg.get("import_error")),
            returncode=3,
        )


@pytest.fixture(autouse=True)
def always_parallel(monkeypatch):
    """Small inputs normally run on one thread (the thread policy, _config.threads_for);
    the tests' inputs are small, so lower its threshold to exercise the parallel code
    paths for real."""
    monkeypatch.setattr(fastembed._config, "PARALLEL_MIN_WORK", 1)


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def num_threads(request):
    """Run the test with 1 and with 2 kernel threads."""
    with fastembed.threads(request.param):
        yield request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


DATA_DIR = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data")


@pytest.fixture(scope="session")
def dask_client():
    """A real Dask cluster, LocalCluster(n_workers=2, processes=True), shared by the Dask
    test modules (each test module skips first when Dask is not installed)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()
