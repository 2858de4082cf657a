"""The README's Python quick start runs as written (on the shared IMDB data)."""

import os
import re

import pytest

from conftest import DATA_DIR

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")
IMDB_TRAIN = os.path.join(DATA_DIR, "imdb", "imdb_train.csv")


def quick_start_code():
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    section = text[text.index("The same from Python") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.skipif(not os.path.exists(IMDB_TRAIN), reason="../shared/data/imdb is absent")
def test_python_quick_start_runs(tmp_path, monkeypatch):
    code = quick_start_code().replace('"../shared/data/imdb/imdb_train.csv"', repr(os.path.abspath(IMDB_TRAIN)))
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "README.md quick start", "exec"), namespace)
    assert namespace["model"].history.history["val_accuracy"][-1] > 0.85
    assert (tmp_path / "projector" / "vecs.tsv").exists() and (tmp_path / "projector" / "meta.tsv").exists()
    assert len(namespace["kv"].most_similar("great", topn=5)) == 5
