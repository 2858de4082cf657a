"""Build information and thread control."""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastembed


def test_show_config_reports_a_compiled_build(capsys):
    cfg = fastembed.show_config()
    assert cfg["compiled"] is True, "the tests must run against the compiled kernels"
    assert cfg["version"] == fastembed.__version__
    assert isinstance(cfg["openmp"], bool) and cfg["num_threads"] >= 1 and cfg["blas"]
    assert capsys.readouterr().out == ""
    fastembed.show_config(verbose=True)
    printed = capsys.readouterr().out
    assert "compiled" in printed and "openmp" in printed


def test_openmp_is_enabled_where_the_compiler_has_it():
    if os.environ.get("FASTEMBED_EXPECT_SERIAL") == "1":
        pytest.skip("serial build requested")
    assert fastembed.show_config()["openmp"], "built without OpenMP: see the build log's warning"


def test_set_get_and_context_manager():
    before = fastembed.get_num_threads()
    with fastembed.threads(3):
        assert fastembed.get_num_threads() == 3
        with fastembed.threads(1):
            assert fastembed.get_num_threads() == 1
        assert fastembed.get_num_threads() == 3
    assert fastembed.get_num_threads() == before
    with pytest.raises(ValueError):
        fastembed.set_num_threads(0)
    with pytest.raises(TypeError):
        fastembed.set_num_threads(2.5)
    with pytest.raises(TypeError):
        fastembed.set_num_threads(True)
    fastembed.set_num_threads(np.int64(before))
    assert fastembed.get_num_threads() == before


def test_context_manager_restores_after_an_exception():
    before = fastembed.get_num_threads()
    with pytest.raises(RuntimeError):
        with fastembed.threads(5):
            raise RuntimeError
    assert fastembed.get_num_threads() == before


@pytest.mark.parametrize("value,expected", [("3", 3), ("1", 1), ("2,1", 2), ("junk", None)])
def test_omp_num_threads_is_honoured(value, expected):
    env = dict(os.environ, OMP_NUM_THREADS=value)
    out = subprocess.run([sys.executable, "-c", "import fastembed; print(fastembed.get_num_threads())"],
                         env=env, capture_output=True, text=True, check=True).stdout
    if expected is None:
        assert int(out) >= 1
    else:
        assert int(out) == expected
