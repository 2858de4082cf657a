"""Labelled text records read as they are needed: ``(text, label)`` pairs from a CSV/TSV
file, fastText lines or class folders.

A :class:`TextRecords` reads its source again at every iteration and holds nothing
between records, so a pass over a file of any size takes the memory of one record (and
one 1 MB read buffer). ``load_text_dataset`` keeps every record of such a pass; the
``fastembed train`` command streams them.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from typing import Iterator, Sequence

TEXT_COLUMN_NAMES = ("text", "sentence", "review", "content", "document", "body", "comment", "tweet", "message")
LABEL_COLUMN_NAMES = ("label", "sentiment", "class", "category", "target", "labels", "polarity", "y")
FASTTEXT_PREFIX = "__label__"
READ_BYTES = 1 << 20

_ASCII_WHITESPACE = re.compile(r"[ \t\n\r\x0b\x0c]")


def check_format(path: str, format: str) -> str:
    """'directory', the file format asked for, or 'auto' (a file, to be sniffed)."""
    formats = ("auto", "directory", "csv", "tsv", "fasttext")
    if format not in formats:
        raise ValueError("format must be one of %s, got %r" % (", ".join(formats), format))
    if os.path.isdir(path):
        if format not in ("auto", "directory"):
            raise ValueError("%s is a directory, not a %s file" % (path, format))
        return "directory"
    if format == "directory":
        raise ValueError("%s is a file, not a directory of class folders" % path)
    return format


def decode_file(path: str, encoding: str, errors: str) -> str:
    """A whole (small) file as text; undecodable bytes raise an error naming the line."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        text = data.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        raise _decode_error(path, data.count(b"\n", 0, exc.start) + 1, data[exc.start : exc.end], encoding) from None
    except LookupError:
        raise ValueError("unknown encoding %r" % encoding) from None
    # A UTF-8 byte-order mark (Excel writes one) is not part of the first column's name.
    return text[1:] if text.startswith("\ufeff") else text


def _decode_error(path, line, data, encoding):
    return ValueError(
        "%s, line %d: bytes %r are not valid %s (pass encoding='cp1252' or errors='replace' "
        "for such files)" % (path, line, data, encoding)
    )


def decoded_lines(path: str, encoding: str, errors: str, universal: bool) -> Iterator[str]:
    r"""The lines of a file, each with its line end, decoded as the file is read.

    ``universal`` ends lines at '\r\n', '\r' or '\n' (else at '\n' only). An
    undecodable byte raises an error naming its line (lines counted at '\n').

    Python's own text reader splits the lines (at C speed); when it meets an undecodable
    byte, :func:`_raise_decode_error` reads the file again to name the line."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError("unknown encoding %r" % encoding) from None
    try:
        # CSV wants Python's universal newlines (a file opened with newline=''); fastText lines
        # end at '\n' only (IMDB texts hold U+0085 and form feeds).
        with open(path, encoding=encoding, errors=errors, newline="" if universal else "\n") as handle:
            first = True
            for line in handle:
                if first:
                    first = False
                    line = line[1:] if line.startswith("\ufeff") else line
                    if not line:
                        continue
                yield line
    except UnicodeDecodeError as exc:
        _raise_decode_error(path, encoding, errors)
        # The incremental decoder found nothing: report what the reader saw.
        raise ValueError("%s: bytes %r are not valid %s" % (path, exc.object[exc.start : exc.end], encoding)) from None


def _raise_decode_error(path, encoding, errors):
    """Decode ``path`` incrementally, counting '\n' bytes, and raise the first
    undecodable byte's error with its line number."""
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    newlines_before = 0  # '\n' bytes in the chunks already decoded
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(READ_BYTES)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line = newlines_before + exc.object.count(b"\n", 0, exc.start) + 1
                raise _decode_error(path, line, exc.object[exc.start : exc.end], encoding) from None
            if not chunk:
                return
            newlines_before += chunk.count(b"\n")


def sniff_file_format(path: str, encoding: str, errors: str) -> str:
    extension = os.path.splitext(path)[1].lower()
    if extension == ".csv":
        return "csv"
    if extension in (".tsv", ".tab"):
        return "tsv"
    first = next((line for line in decoded_lines(path, encoding, errors, universal=False) if line.strip()), None)
    if first is None:
        raise ValueError("%s is empty" % path)
    if first.startswith(FASTTEXT_PREFIX):
        return "fasttext"
    raise ValueError(
        "cannot tell the format of %s: name it .csv or .tsv, use the fastText "
        "'__label__<class> text' lines, or pass format=" % path
    )


def _fasttext_records(path, encoding, errors):
    found = False
    for number, line in enumerate(decoded_lines(path, encoding, errors, universal=False), 1):
        line = line[:-1] if line.endswith("\n") else line
        line = line[:-1] if line.endswith("\r") else line
        if not line.strip():
            continue
        # The label ends at any ASCII whitespace.
        match = _ASCII_WHITESPACE.search(line)
        head, text = (line[: match.start()], line[match.end() :]) if match else (line, "")
        if not head.startswith(FASTTEXT_PREFIX) or head == FASTTEXT_PREFIX:
            raise ValueError("%s, line %d: expected '__label__<class> text'" % (path, number))
        if text.startswith(FASTTEXT_PREFIX):
            raise ValueError(
                "%s, line %d: several labels on one line (multi-label data) are not supported" % (path, number)
            )
        found = True
        yield text, head[len(FASTTEXT_PREFIX) :]
    if not found:
        raise ValueError("%s is empty" % path)


def _find_column(header, wanted, candidates, what, path):
    lowered = [name.strip().lower() for name in header]
    if wanted is not None:
        if wanted in header:
            return header.index(wanted)
        raise ValueError("%s has no %s column %r (columns: %s)" % (path, what, wanted, header))
    for candidate in candidates:
        if candidate in lowered:
            return lowered.index(candidate)
    raise ValueError("%s: no %s column found among %s; name it with %s_column=" % (path, what, header, what))


def _table_records(path, delimiter, text_column, label_column, encoding, errors):
    csv.field_size_limit(min(2**31 - 1, 1 << 30))
    lines = decoded_lines(path, encoding, errors, universal=True)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader, None)
        while header is not None and not any(field.strip() for field in header):
            header = next(reader, None)  # blank lines before the header
        if header is None:
            raise ValueError("%s is empty" % path)
        text_index = _find_column(header, text_column, TEXT_COLUMN_NAMES, "text", path)
        label_index = _find_column(header, label_column, LABEL_COLUMN_NAMES, "label", path)
        found = False
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(
                    "%s, line %d: %d fields, the header has %d" % (path, reader.line_num, len(row), len(header))
                )
            found = True
            yield row[text_index], row[label_index].strip()
    except csv.Error as exc:
        raise ValueError("%s, line %d: %s" % (path, reader.line_num, exc)) from None
    if not found:
        raise ValueError("%s has a header but no rows" % path)


def class_folders(path: str, class_names: Sequence[str] | None) -> list:
    """The class folders of a directory tree to read, in label order."""
    folders = sorted(name for name in os.listdir(path) if os.path.isdir(os.path.join(path, name)))
    if class_names is None:
        return folders
    classes = list(class_names)
    missing = [name for name in classes if name not in folders]
    if missing:
        raise ValueError("%s has no class folder %s (folders: %s)" % (path, missing, folders))
    if len(set(classes)) != len(classes):
        raise ValueError("class_names repeats a name: %s" % classes)
    return classes


def _directory_records(path, classes, encoding, errors):
    found = False
    for name in classes:
        for root, dirs, files in os.walk(os.path.join(path, name)):
            dirs.sort()
            for filename in sorted(files):
                if filename.endswith(".txt"):
                    found = True
                    yield decode_file(os.path.join(root, filename), encoding, errors), name
    if not found:
        raise ValueError("%s holds no .txt files in class folders %s" % (path, classes))


class TextRecords:
    """The ``(text, label)`` records of a CSV/TSV file, a fastText file or a class-folder
    tree, read anew at each iteration (labels are the raw class names, as str).

    Parameters are those of :func:`fastembed.datasets.load_text_dataset`; ``class_names``
    selects folders of a tree (files keep every row: choose classes on the records)."""

    def __init__(
        self,
        path,
        text_column: str | None = None,
        label_column: str | None = None,
        format: str = "auto",
        class_names: Sequence[str] | None = None,
        encoding: str = "utf-8",
        errors: str = "strict",
    ):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError("%s does not exist" % self.path)
        self.kind = check_format(self.path, format)
        self.text_column, self.label_column = text_column, label_column
        self.encoding, self.errors = encoding, errors
        self.classes = class_folders(self.path, class_names) if self.kind == "directory" else None
        if self.kind == "auto":
            self.kind = sniff_file_format(self.path, encoding, errors)

    def __iter__(self) -> Iterator[tuple]:
        if self.kind == "directory":
            return _directory_records(self.path, self.classes, self.encoding, self.errors)
        if self.kind == "fasttext":
            return _fasttext_records(self.path, self.encoding, self.errors)
        delimiter = "\t" if self.kind == "tsv" else ","
        return _table_records(self.path, delimiter, self.text_column, self.label_column, self.encoding, self.errors)
