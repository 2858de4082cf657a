"""The command line, end to end in subprocesses (``python -m fastembed``) on generated data."""

import csv
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from fastembed.datasets import make_demo_reviews
from fastembed.embeddings import KeyedVectors


def fastembed(*args, stdin=None, cwd=None):
    """Run the CLI; (status, stdout, stderr).

    Never from the source checkout: ``python -m`` puts the working directory first on
    sys.path, and there ``fastembed`` would be the uncompiled source tree."""
    done = subprocess.run(
        [sys.executable, "-m", "fastembed", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd or tempfile.gettempdir(),
        timeout=300,
    )
    return done.returncode, done.stdout, done.stderr


def write_csv(path, data):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for text, label in zip(data.texts, data.labels):
            writer.writerow([text, data.class_names[label]])
    return str(path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One training run shared by the tests that read a run directory."""
    root = tmp_path_factory.mktemp("cli")
    train = write_csv(root / "train.csv", make_demo_reviews(1500, seed=1))
    test = write_csv(root / "test.csv", make_demo_reviews(300, seed=2))
    out = str(root / "run")
    status, stdout, stderr = fastembed(
        "train",
        train,
        "--test",
        test,
        "--epochs",
        "8",
        "--vocab-size",
        "200",
        "--seq-len",
        "32",
        "--threads",
        "2",
        "--out",
        out,
    )
    assert status == 0, stderr
    return out, train, test, stdout


def test_train_writes_the_run_directory(trained):
    out, _, _, stdout = trained
    assert "Test accuracy:" in stdout and "Wrote to" in stdout
    for name in ("model.npz", "encoder.json", "run.json", "metrics.json", "vecs.tsv", "meta.tsv"):
        assert os.path.exists(os.path.join(out, name)), name
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert len(metrics["history"]["loss"]) == 8 and metrics["threads"] == 2
    assert metrics["test"]["accuracy"] > 0.8 and metrics["tokens_per_second"] > 0
    assert set(metrics["test"]["per_class"]) == {"1 star", "2 stars", "3 stars", "4 stars", "5 stars"}
    assert os.path.exists(metrics["files"]["training"]) and os.path.exists(metrics["files"]["embedding"])
    with open(os.path.join(out, "vecs.tsv")) as vecs, open(os.path.join(out, "meta.tsv")) as meta:
        assert len(vecs.readlines()) == len(meta.readlines())


def test_predict(trained):
    out = trained[0]
    status, stdout, _ = fastembed("predict", out, "superb and wonderful masterful", "awful terrible dreadful")
    assert status == 0
    rows = stdout.strip().split("\n")
    assert rows[0] == "label\tprobability\ttext"
    assert rows[1].startswith("5 stars\t") and rows[2].startswith("1 star\t")
    status, stdout, _ = fastembed("predict", out, "--file", "-", "--json", stdin="superb film\n\nawful film\n")
    answers = json.loads(stdout)
    assert status == 0 and [a["text"] for a in answers] == ["superb film", "awful film"]
    assert set(answers[0]) == {"text", "label", "probability", "probabilities"}
    assert sum(answers[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_neighbors_analogy_export(trained, tmp_path):
    out = trained[0]
    status, stdout, _ = fastembed("neighbors", out, "paris", "superb", "--topn", "3", "--json")
    answers = json.loads(stdout)
    assert status == 0 and answers["paris"][0]["word"] == "france" and len(answers["superb"]) == 3
    status, stdout, _ = fastembed("analogy", out, "france", "paris", "japan", "--json")
    assert status == 0 and json.loads(stdout)["answers"][0]["word"] == "tokyo"
    status, _, _ = fastembed("export", out, "--format", "word2vec-binary", "--to", str(tmp_path / "v.bin"))
    assert status == 0
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    assert "paris" in kv and "" not in kv and "[UNK]" not in kv
    status, _, _ = fastembed("export", out, "--format", "projector", "--to", str(tmp_path / "projector"))
    assert status == 0 and (tmp_path / "projector" / "vecs.tsv").exists()


def test_evaluate(trained):
    out, _, test, _ = trained
    status, stdout, _ = fastembed("evaluate", out, test, "--json")
    scores = json.loads(stdout)
    assert status == 0 and scores["samples"] == 300 and scores["accuracy"] > 0.8
    assert 0 <= scores["per_class"]["3 stars"]["recall"] <= 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "missing.csv", "--out", "x"], "missing.csv does not exist"),
        (["train", "data.csv", "--out", "x", "--epochs", "0"], "--epochs: must be >= 1"),
        (["train", "data.csv", "--out", "x", "--validation-split", "1.5"], "must be in [0, 1)"),
        (["predict", "no-such-run", "text"], "no-such-run is not a directory"),
        (["neighbors", "RUN", "atlantis"], "not in the vocabulary: atlantis"),
        (["predict", "RUN"], "no text to classify"),
        (["export", "RUN", "--format", "bogus", "--to", "x"], "invalid choice"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(trained, tmp_path, args, message):
    args = [trained[0] if a == "RUN" else a for a in args]
    status, stdout, stderr = fastembed(*args, cwd=str(tmp_path))
    assert status == 2
    assert stderr.count("\n") == 1 and message in stderr and "Traceback" not in stderr
    status, _, stderr = fastembed("--verbose", *args, cwd=str(tmp_path))
    assert status == 2 and (message in stderr)


def test_run_from_another_version(trained, tmp_path):
    import shutil

    copy = str(tmp_path / "old-run")
    shutil.copytree(trained[0], copy)
    info = json.load(open(os.path.join(copy, "run.json")))
    info["version"] = 99
    json.dump(info, open(os.path.join(copy, "run.json"), "w"))
    status, _, stderr = fastembed("predict", copy, "text")
    assert status == 2 and "run format 99" in stderr and "train again" in stderr


def test_help_for_every_command():
    for command in ("train", "predict", "neighbors", "analogy", "export", "evaluate", "info", "demo", "word2vec"):
        status, stdout, _ = fastembed(command, "--help")
        assert status == 0 and "example" in stdout, command


def test_info_json():
    status, stdout, _ = fastembed("info", "--json")
    assert status == 0 and json.loads(stdout)["compiled"] is True


def test_demo_shows_the_planted_structure(tmp_path):
    status, stdout, stderr = fastembed("demo", "--out", str(tmp_path / "demo"))
    assert status == 0, stderr
    assert "6 of 6 capitals have their country as nearest neighbour" in stdout
    superb = next(line for line in stdout.split("\n") if line.strip().startswith("superb"))
    assert any(word in superb for word in ("wonderful", "excellent", "brilliant", "amazing", "masterful"))
    assert (tmp_path / "demo" / "vecs.tsv").exists() and (tmp_path / "demo" / "run.json").exists()


def _interrupt_training_at_epoch_2(data, out, *options):
    """Run `fastembed train`, send SIGINT once epoch 2 starts; return (exit status, stderr)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fastembed",
            "train",
            data,
            "--epochs",
            "100000",
            "--seq-len",
            "16",
            "--out",
            out,
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(out),
        # A shell that starts the tests in the background makes them ignore SIGINT, and
        # Python then keeps ignoring it: the child gets the default, as at a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        for line in process.stdout:
            if line.startswith("Epoch 2/"):
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_keeps_the_last_epoch(tmp_path):
    data = write_csv(tmp_path / "train.csv", make_demo_reviews(3000, seed=3))
    out = str(tmp_path / "run")
    status, stderr = _interrupt_training_at_epoch_2(data, out)
    assert status == 130
    assert "interrupted" in stderr and "kept in %s" % out in stderr and "Traceback" not in stderr
    status, stdout, _ = fastembed("predict", out, "superb film")
    assert status == 0 and "star" in stdout


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_in_a_retrain_keeps_the_old_run_and_the_partial_one(tmp_path):
    """Issue 12: the old run stays whole where it was; the interrupted retrain is kept
    beside it (RUN.interrupted), not thrown away."""
    data = write_csv(tmp_path / "train.csv", make_demo_reviews(3000, seed=3))
    out = str(tmp_path / "run")
    status, _, stderr = fastembed("train", data, "--epochs", "1", "--seq-len", "16", "--out", out)
    assert status == 0, stderr
    before = {name: (tmp_path / "run" / name).read_bytes() for name in sorted(os.listdir(out))}
    status, stderr = _interrupt_training_at_epoch_2(data, out, "--overwrite", "--dim", "8")
    assert status == 130 and "Traceback" not in stderr, stderr
    assert "previous run in %s is unchanged" % out in stderr and out + ".interrupted" in stderr
    assert {name: (tmp_path / "run" / name).read_bytes() for name in sorted(os.listdir(out))} == before
    status, stdout, _ = fastembed("predict", out + ".interrupted", "superb film")
    assert status == 0 and "star" in stdout
    assert fastembed_model_dim(out + ".interrupted") == 8 and fastembed_model_dim(out) != 8
    leftovers = [name for name in os.listdir(tmp_path) if name.startswith(".run.")]
    assert not leftovers, leftovers


def fastembed_model_dim(run):
    import fastembed as package

    return package.load_model(os.path.join(run, "model.npz")).layers[0].output_dim


def test_generated_corpus_is_reproducible():
    a, b = make_demo_reviews(50, seed=4), make_demo_reviews(50, seed=4)
    assert a.texts == b.texts and np.array_equal(a.labels, b.labels)
    assert a.class_names == ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"]
    with pytest.raises(ValueError, match="n_samples"):
        make_demo_reviews(1)


def test_train_with_subwords(tmp_path):
    data = write_csv(tmp_path / "train.csv", make_demo_reviews(800, seed=5))
    out = str(tmp_path / "run")
    status, _, stderr = fastembed(
        "train",
        data,
        "--tokenizer",
        "subwords",
        "--vocab-size",
        "300",
        "--epochs",
        "2",
        "--seq-len",
        "48",
        "--out",
        out,
    )
    assert status == 0, stderr
    assert os.path.exists(os.path.join(out, "encoder.subwords"))
    status, stdout, _ = fastembed("predict", out, "superb wonderful", "--json")
    assert status == 0 and json.loads(stdout)[0]["label"].endswith(("star", "stars"))
    with open(os.path.join(out, "vecs.tsv")) as vecs, open(os.path.join(out, "meta.tsv")) as meta:
        assert len(vecs.readlines()) == len(meta.readlines())


def test_inputs_are_checked_before_training_writes_anything(tmp_path):
    """Issue 12: an unknown class in --test was found only after training had replaced the
    run; --threads 5000 aborted the process inside OpenMP."""
    data = make_demo_reviews(200, seed=3)
    train = write_csv(tmp_path / "train.csv", data)
    odd = tmp_path / "test.csv"
    odd.write_text("text,label\nfine film,6 stars\ngood film,%s\n" % data.class_names[0], encoding="utf-8")
    out = tmp_path / "run"
    status, _, stderr = fastembed("train", train, "--test", str(odd), "--epochs", "1", "--out", str(out))
    assert status == 2 and "classes the training data does not: 6 stars" in stderr and not out.exists()
    status, _, stderr = fastembed("train", train, "--threads", "5000", "--out", str(out))
    assert status == 2 and "at most" in stderr and "threads" in stderr and not out.exists()
    for option in ("--dim", "--seq-len"):
        status, _, stderr = fastembed("train", train, option, "1000000000", "--out", str(out))
        assert status == 2 and "at most" in stderr and "Traceback" not in stderr and not out.exists()
    status, stdout, stderr = fastembed("train", train, "--vocab-size", "3", "--out", str(out))
    assert status == 2 and "raise --vocab-size" in stderr and "Epoch" not in stdout and not out.exists()


def test_an_existing_run_is_replaced_only_with_overwrite_and_only_when_complete(tmp_path, trained):
    """Issue 12: train --out over a good run overwrote it before training."""
    out, train, _, _ = trained
    before = {name: (pathlib.Path(out) / name).read_bytes() for name in ("model.npz", "run.json", "metrics.json")}
    status, _, stderr = fastembed("train", train, "--epochs", "1", "--out", out)
    assert status == 2 and "--overwrite" in stderr
    bad = tmp_path / "odd.csv"
    bad.write_text("text,label\nfine,a\nbad,b\n", encoding="utf-8")
    status, _, stderr = fastembed("train", train, "--test", str(bad), "--epochs", "1", "--overwrite", "--out", out)
    assert status == 2
    assert {name: (pathlib.Path(out) / name).read_bytes() for name in before} == before
    leftovers = [p for p in pathlib.Path(out).parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_overwrite_swaps_the_new_run_in(tmp_path):
    data = write_csv(tmp_path / "train.csv", make_demo_reviews(200, seed=5))
    out = tmp_path / "run"
    assert fastembed("train", data, "--epochs", "1", "--seq-len", "16", "--out", str(out))[0] == 0
    first = (out / "model.npz").read_bytes()
    status, _, stderr = fastembed("train", data, "--epochs", "2", "--seq-len", "16", "--overwrite", "--out", str(out))
    assert status == 0, stderr
    assert (out / "model.npz").read_bytes() != first and (out / "run.json").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert os.path.dirname(metrics["files"]["model"]) == str(out) and len(metrics["history"]["loss"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "train.csv"]


def test_predict_takes_texts_after_its_options(trained):
    """Issue 12: `predict RUN --json "text"` failed: options had to come last."""
    out = trained[0]
    status, stdout, stderr = fastembed("predict", out, "--json", "a superb film", "an awful film")
    assert status == 0, stderr
    assert [item["text"] for item in json.loads(stdout)] == ["a superb film", "an awful film"]
    status, _, stderr = fastembed("predict", out, "--no-such-option", "text")
    assert status == 2 and "unrecognized arguments" in stderr


def test_word2vec_run_and_the_commands_that_read_it(tmp_path):
    from test_word2vec import _planted_corpus

    sentences, _ = _planted_corpus(3000)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(s) for s in sentences) + "\n", encoding="utf-8")
    questions = tmp_path / "questions.txt"
    questions.write_text(": capitals\nfrance paris italy rome\njapan tokyo egypt cairo\nperu lima spain madrid\n")
    run = str(tmp_path / "vectors")
    status, stdout, stderr = fastembed("word2vec", str(corpus), "--out", run, "--sg", "--dim", "24", "--min-count",
                                       "1", "--epochs", "10", "--sample", "0", "--deterministic")  # fmt: skip
    assert status == 0, stderr
    assert "Word2Vec: 86 words x 24 dimensions from 3000 sentences" in stdout and "words/s" in stdout
    info = json.loads((tmp_path / "vectors" / "run.json").read_text())
    assert info["kind"] == "word2vec" and info["settings"]["sg"] == 1
    status, stdout, _ = fastembed("analogy", run, "france", "paris", "japan", "--topn", "1", "--json")
    assert json.loads(stdout)["answers"][0]["word"] == "tokyo"
    score = json.loads(fastembed("evaluate", run, "--analogies", str(questions), "--json")[1])
    assert score["score"] >= 2 / 3 and score["sections"][0]["section"] == "capitals"
    assert fastembed("neighbors", run, "paris", "--topn", "3")[0] == 0
    assert fastembed("export", run, "--format", "word2vec", "--to", str(tmp_path / "v.txt"))[0] == 0
    assert KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt")).vector_size == 24
    status, _, stderr = fastembed("word2vec", str(corpus), "--out", run)
    assert status == 2 and "--overwrite" in stderr
    status, _, stderr = fastembed("evaluate", run, str(corpus))
    assert status == 2 and "not a classifier" in stderr
    status, stdout, stderr = fastembed("word2vec", str(corpus), "--out", str(tmp_path / "ft"), "--fasttext", "--bucket",
                                       "1000", "--dim", "8", "--min-count", "1", "--epochs", "1")  # fmt: skip
    assert status == 0 and "FastText" in stdout, stderr
    status, _, stderr = fastembed("neighbors", str(tmp_path / "ft"), "france_9", "--topn", "2")
    assert status == 0, stderr
    status, _, stderr = fastembed("word2vec", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "x"))
    assert status == 2 and "does not exist" in stderr and not (tmp_path / "x").exists()
