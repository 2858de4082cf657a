"""Writing files so that nothing is ever half-written: every file fastembed writes (models,
encoders, run.json, metrics, vectors, plots) goes through :func:`atomic_write`."""

import contextlib
import os
import tempfile


def _file_mode(path):
    """The mode of the file being replaced, else what the umask gives a new file."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_directory(directory):
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_write(path, mode="w", encoding=None, newline=None):
    """Open a temporary file beside ``path`` for writing; when the block ends normally it
    is flushed, fsynced, given the usual file mode and renamed over ``path``. If the block
    raises (Ctrl-C included), the temporary file is removed and ``path`` is untouched: it
    is always either the old file or the complete new one.

    Parameters
    ----------
    path : str or path-like
    mode : {'w', 'wb'}
    encoding, newline :
        As for :func:`open` (text mode only).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, mode, encoding=encoding, newline=newline) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _file_mode(path))  # mkstemp made it private (0600)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _sync_directory(directory)


def read_json(path, max_bytes):
    """Parse the JSON file at ``path``, refusing one larger than ``max_bytes`` before
    reading it (parsing takes several times a file's size in Python objects).

    Raises
    ------
    ValueError
        The file is larger than ``max_bytes``, is not UTF-8, is not JSON, or nests deeper
        than Python's recursion limit (UnicodeDecodeError and JSONDecodeError are
        ValueErrors).
    """
    import json

    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise ValueError("%s is %d bytes, more than the %d a file of this kind may hold" % (path, size, max_bytes))
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew since fstat (or a special file)
        raise ValueError("%s holds more than the %d bytes a file of this kind may hold" % (path, max_bytes))
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError("%s nests too deeply to be a JSON document of fastembed" % path) from None
