"""File formats of :class:`~fastembed.embeddings.KeyedVectors`: the TensorFlow Embedding
Projector's TSV pair and the word2vec text and binary formats (byte-compatible with
gensim and the original word2vec tool; GloVe text files read too)."""

import os

import numpy as np

from .._files import atomic_write


def save_projector(kv, directory, metadata=None, config=False):
    """Write ``vecs.tsv`` and ``meta.tsv``; see :meth:`KeyedVectors.save_projector`."""
    os.makedirs(directory, exist_ok=True)
    columns = {}
    for name, values in (metadata or {}).items():
        values = list(values)
        if len(values) != len(kv):
            raise ValueError("metadata column %r has %d values for %d tokens" % (name, len(values), len(kv)))
        columns[str(name)] = values
    vecs_path = os.path.join(directory, "vecs.tsv")
    meta_path = os.path.join(directory, "meta.tsv")
    row_format = _row_format(kv.vector_size, "\t")
    with atomic_write(vecs_path, encoding="utf-8", newline="\n") as handle:
        for row in kv.vectors.tolist():
            handle.write(row_format % tuple(row) + "\n")
    with atomic_write(meta_path, encoding="utf-8", newline="\n") as handle:
        if columns:
            handle.write("\t".join(["word"] + [_escape_tsv(name) for name in columns]) + "\n")
        for i, key in enumerate(kv.index_to_key):
            cells = [_escape_tsv(key)] + [_escape_tsv(str(values[i])) for values in columns.values()]
            handle.write("\t".join(cells) + "\n")
    if config:
        with atomic_write(os.path.join(directory, "projector_config.pbtxt"), encoding="utf-8") as handle:
            handle.write(
                'embeddings {\n  tensor_name: "embedding"\n  tensor_path: "vecs.tsv"\n  metadata_path: "meta.tsv"\n}\n'
            )
    return vecs_path, meta_path


def save_word2vec_format(kv, path, binary=False):
    """Write the word2vec text or binary format; see :meth:`KeyedVectors.save_word2vec_format`."""
    # The format separates fields by ASCII spaces and records by newlines: other Unicode
    # whitespace (U+0085 is an IMDB token) is an ordinary character in a word, and the
    # readers (ours, and the C tool's ReadWord) split on ASCII whitespace only.
    for key in kv.index_to_key:
        if not key or any(c in " \t\n\r\x0b\x0c" for c in key):
            raise ValueError("key %r is empty or holds ASCII whitespace: the word2vec format cannot store it" % key)
    vectors = kv.vectors.astype("<f4")
    row_format = _row_format(kv.vector_size, " ")
    with atomic_write(path, "wb") as handle:
        handle.write(("%d %d\n" % vectors.shape).encode("utf-8"))
        for key, row in zip(kv.index_to_key, vectors):
            if binary:
                handle.write(key.encode("utf-8") + b" " + row.tobytes())
            else:
                handle.write((key + " " + row_format % tuple(row.tolist()) + "\n").encode("utf-8"))


def load_word2vec_format(path, binary=False, no_header=False, limit=None, encoding="utf-8", unicode_errors="strict"):
    """``(vectors, keys)`` from a word2vec/GloVe file; see :meth:`KeyedVectors.load_word2vec_format`."""
    if binary and no_header:
        raise ValueError("the binary word2vec format always has a header")
    with open(path, "rb") as handle:
        if binary:
            return _load_binary(handle, path, limit, encoding, unicode_errors)
        return _load_text(handle, path, no_header, limit, encoding, unicode_errors)


def _load_text(handle, path, no_header, limit, encoding, unicode_errors):
    keys, rows = [], []
    expected_count = dim = None
    for number, raw in enumerate(handle, 1):
        try:
            line = raw.decode(encoding, unicode_errors).rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise ValueError("%s, line %d: not valid %s (%s)" % (path, number, encoding, exc)) from None
        if number == 1 and not no_header:
            expected_count, dim = _parse_header(line, path)
            continue
        if not line.strip():
            continue
        if limit is not None and len(keys) >= limit:
            break
        parts = line.rstrip(" ").split(" ")
        if dim is None:
            dim = len(parts) - 1
            if dim < 1:
                raise ValueError("%s, line %d: a word with no vector" % (path, number))
        if len(parts) != dim + 1:
            raise ValueError("%s, line %d: %d values, expected %d" % (path, number, len(parts) - 1, dim))
        try:
            rows.append([float(v) for v in parts[1:]])
        except ValueError:
            raise ValueError("%s, line %d: a non-numeric value in %r" % (path, number, line[:80])) from None
        keys.append(parts[0])
    if expected_count is not None and limit is None and len(keys) != expected_count:
        raise ValueError("%s: the header announces %d vectors, the file holds %d" % (path, expected_count, len(keys)))
    if not keys and dim is None:
        raise ValueError("%s holds no vectors" % path)
    return np.array(rows, dtype=np.float32).reshape(len(keys), dim), keys


def _load_binary(handle, path, limit, encoding, unicode_errors):
    header = handle.readline()
    try:
        count, dim = _parse_header(header.decode("ascii"), path)
    except UnicodeDecodeError:
        raise ValueError("%s: the first line is not a 'count dim' header" % path) from None
    if limit is not None:
        count = min(count, limit)
    # The header's claim is checked against the bytes the file holds before anything is
    # allocated: each record is at least a one-byte word, a space and 4 * dim bytes.
    remaining = os.fstat(handle.fileno()).st_size - handle.tell()
    if count * (2 + 4 * dim) > remaining:
        raise ValueError(
            "%s: the header announces %d vectors of %d values, but the file is truncated: it "
            "holds only %d more bytes" % (path, count, dim, remaining)
        )
    vectors = np.empty((count, dim), dtype=np.float32)
    keys = []
    record_bytes = 4 * dim
    for record in range(count):
        word = bytearray()
        while True:
            byte = handle.read(1)
            if not byte:
                raise ValueError("%s: truncated at record %d of %d (in the word)" % (path, record + 1, count))
            if byte == b" ":
                break
            if byte != b"\n" or word:  # the word2vec C tool ends each record with '\n'
                word += byte
        data = handle.read(record_bytes)
        if len(data) != record_bytes:
            raise ValueError(
                "%s: truncated at record %d of %d (%d of %d vector bytes)"
                % (path, record + 1, count, len(data), record_bytes)
            )
        try:
            keys.append(bytes(word).decode(encoding, unicode_errors))
        except UnicodeDecodeError as exc:
            raise ValueError("%s, record %d: word is not valid %s (%s)" % (path, record + 1, encoding, exc)) from None
        vectors[record] = np.frombuffer(data, dtype="<f4")
    return vectors, keys


def _row_format(dim, separator):
    # One format string per row: 9 significant digits read a float32 back bit for bit.
    return separator.join(["%.9g"] * dim)


def _parse_header(line, path):
    parts = line.split()
    try:
        count, dim = (int(p) for p in parts)
    except ValueError:
        raise ValueError(
            "%s, line 1: expected the header 'count dim', got %r (GloVe files have none: "
            "pass no_header=True)" % (path, line[:80])
        ) from None
    if count < 0 or dim < 1:
        raise ValueError("%s, line 1: bad header %r" % (path, line))
    return count, dim


def _escape_tsv(text):
    # The Projector splits rows on newlines and cells on tabs: escape both (and backslash).
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
