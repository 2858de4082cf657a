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


def run_python(code, env, cwd):
    """Run ``code`` in a fresh interpreter. ``cwd`` must not be the source checkout:
    `python -c` puts the current directory first on sys.path, which would import the
    uncompiled sources instead of the installed package."""
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, check=True).stdout


@pytest.mark.parametrize("value,expected", [("3", 3), ("1", 1), ("2,1", 2), ("junk", None)])
def test_omp_num_threads_is_honoured(value, expected, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS=value)
    out = run_python("import fastembed; print(fastembed.get_num_threads())", env, tmp_path)
    if expected is None:
        assert int(out) >= 1
    else:
        assert int(out) == expected


_VARIANT_SCRIPT = r"""
import sys, numpy as np, fastembed
from fastembed import ops
rng = np.random.default_rng(7)
table = rng.standard_normal((500, 24)).astype(np.float32)
ids = (rng.zipf(1.2, size=(10, 32, 40)) % 500).astype(np.int64)
grads = rng.standard_normal((10, 32, 24)).astype(np.float32)
for dtype in (np.float32, np.float64):
    for dim in (5, 16, 64, 72):
        t = rng.standard_normal((300, dim)).astype(dtype)
        sys.stdout.buffer.write(ops.embedding_bag(t, ids[0] % 300, padding_idx=0).tobytes())
for opt in (fastembed.SparseAdam(weight_decay=0.01, max_norm=2.0), fastembed.SparseAdagrad(),
            fastembed.SparseRowwiseAdagrad(), fastembed.SparseSGD(momentum=0.9, nesterov=True)):
    weights = table.copy()
    for step in range(10):
        ops.embedding_bag_backward_update(weights, grads[step], ids[step], padding_idx=0, optimizer=opt)
    sys.stdout.buffer.write(weights.tobytes())
sys.stdout.buffer.write(fastembed.show_config()["simd"].encode())
"""


def test_simd_builds_give_bitwise_identical_results(tmp_path):
    """The AVX2 and portable builds (update kernels, bag sum) give bitwise-identical results."""
    outputs = {}
    for simd in ("auto", "baseline"):
        outputs[simd] = run_python(_VARIANT_SCRIPT, dict(os.environ, FASTEMBED_SIMD=simd), tmp_path)
    assert outputs["baseline"].endswith(b"baseline")
    if not outputs["auto"].endswith(b"avx2"):
        pytest.skip("no AVX2 build or CPU here: only one build to compare")
    assert outputs["auto"][:-4] == outputs["baseline"][:-8]


@pytest.mark.skipif(not fastembed.show_config()["openmp"], reason="serial build")
@pytest.mark.parametrize("preset, expected", [(None, "PASSIVE"), ("active", "ACTIVE")])
def test_openmp_waits_passively_unless_the_user_says_otherwise(preset, expected, tmp_path):
    """GNU OpenMP reports its settings with OMP_DISPLAY_ENV: fastembed loads it with a
    passive wait policy (team members sleep instead of spinning on busy cores), leaves a
    user's own setting alone, and does not leave the variable in the environment."""
    env = dict(os.environ, OMP_DISPLAY_ENV="TRUE")
    env.pop("GOMP_SPINCOUNT", None)
    env.pop("OMP_WAIT_POLICY", None)
    if preset:
        env["OMP_WAIT_POLICY"] = preset
    out = subprocess.run(
        [sys.executable, "-c", "import os, fastembed; print('left:', os.environ.get('OMP_WAIT_POLICY'))"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    if "OMP_WAIT_POLICY" not in out.stderr:
        pytest.skip("this OpenMP runtime does not display its settings")
    assert "OMP_WAIT_POLICY = '%s'" % expected in out.stderr
    assert "left: %s" % preset in out.stdout


def test_qdrants_fastembed_beside_this_one_is_detected(tmp_path):
    """Issue 16: published as 'cyembed', imported as 'fastembed'; Qdrant's PyPI
    'fastembed' shares the import name, so an environment holding it gets a warning."""
    from fastembed._neighbours import other_fastembed_installed, warn_if_shadowed

    package = tmp_path / "site-packages" / "fastembed"
    package.mkdir(parents=True)
    (tmp_path / "site-packages" / "cyembed-0.2.0.dist-info").mkdir()
    assert not other_fastembed_installed(str(package))
    (tmp_path / "site-packages" / "fastembed-0.9.1.dist-info").mkdir()
    assert other_fastembed_installed(str(package))
    with pytest.warns(RuntimeWarning, match="Qdrant's 'fastembed'"):
        warn_if_shadowed(str(package))
    (tmp_path / "site-packages" / "fastembed-0.9.1.dist-info").rmdir()
    (package / "common").mkdir()  # Qdrant's files written into this package's folder
    assert other_fastembed_installed(str(package))


def test_import_loads_only_the_kernels_and_the_configuration():
    """Issue 16: `import fastembed` stays cheap; every other module loads on first use."""
    import subprocess
    import sys
    import tempfile

    script = "import fastembed, sys; print(sorted(m for m in sys.modules if m.startswith('fastembed')))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tempfile.gettempdir(), check=True
    ).stdout
    loaded = {name for name in eval(out) if not name.startswith("fastembed._kernels")}
    assert loaded == {"fastembed", "fastembed._config", "fastembed._neighbours", "fastembed._version"}, loaded
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import fastembed; print(fastembed.Sequential.__name__, "
            "fastembed.layers.Dense.__name__, 'Dense' in dir(fastembed.layers))",
        ],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        check=True,
    ).stdout
    assert out.split() == ["Sequential", "Dense", "True"]


def test_every_subpackage_is_in_the_wheel():
    """pyproject.toml lists the packages explicitly: a new subpackage left out of the list
    is missing from the installed wheel (fastembed.word2vec nearly was)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    listed = set(re.search(r"^packages = \[(.*?)\]", (root / "pyproject.toml").read_text(), re.M | re.S).group(1)
                 .replace('"', "").replace(" ", "").split(","))  # fmt: skip
    found = {".".join(path.parent.relative_to(root).parts) for path in (root / "fastembed").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
