"""The JSON files text encoders save to: a dict tagged with its format name and version,
so that loading a foreign, damaged or newer file fails with a clear message."""

import json

from .._files import atomic_write, read_json

# A saved encoder holds its vocabulary: a million tokens take about 20 MB. The bound keeps
# a damaged or hostile file from making the parser build gigabytes of Python objects.
MAX_DOCUMENT_BYTES = 256 << 20


def make(format_name, version, **fields):
    """A tagged document: ``{'format': ..., 'version': ..., **fields}``."""
    return {"format": format_name, "version": version, **fields}


def check(document, format_name, version, source, what):
    """Raise ``ValueError`` unless ``document`` is a ``what`` this code can read."""
    if not isinstance(document, dict) or document.get("format") != format_name:
        raise ValueError("%s is not a saved %s" % (source, what))
    found = document.get("version", 0)
    if not isinstance(found, int) or isinstance(found, bool) or found < 0:
        raise ValueError("%s is not a saved %s (version %r)" % (source, what, found))
    if found > version:
        raise ValueError("%s was written by a newer fastembed (format %s)" % (source, document.get("version")))


def write(path, document):
    """Write ``document`` as UTF-8 JSON (atomically)."""
    with atomic_write(path, encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False)


def read(path, format_name, version, what):
    """Read and :func:`check` a document; undecodable, non-JSON or oversized files
    (over ``MAX_DOCUMENT_BYTES``) raise ``ValueError``."""
    try:
        document = read_json(path, MAX_DOCUMENT_BYTES)
    except ValueError as exc:
        raise ValueError("%s is not a saved %s (%s)" % (path, what, exc)) from None
    check(document, format_name, version, path, what)
    return document
