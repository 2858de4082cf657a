"""Detect Qdrant's ``fastembed`` (PyPI ``fastembed``) installed beside this one.

This project is published as ``cyembed`` and imported as ``fastembed``; Qdrant's library
is published as ``fastembed`` and imported under the same name. Installed together, the
two write into one ``fastembed/`` folder and whichever was installed last wins file by
file. The check is one listing of the folder that holds this package (no
``importlib.metadata`` scan, which would cost more than the rest of the import).
"""

import os
import warnings

OUR_DISTRIBUTION = "cyembed"


def other_fastembed_installed(package_dir):
    """True when a ``fastembed-*.dist-info`` (Qdrant's distribution name) sits beside
    ``package_dir``, or Qdrant's ``fastembed/common`` subpackage is inside it."""
    parent = os.path.dirname(package_dir)
    try:
        names = os.listdir(parent)
    except OSError:
        return False
    if any(name.startswith("fastembed-") and name.endswith(".dist-info") for name in names):
        return True
    return os.path.isdir(os.path.join(package_dir, "common"))


def warn_if_shadowed(package_dir):
    if other_fastembed_installed(package_dir):
        warnings.warn(
            "Qdrant's 'fastembed' distribution (pip install fastembed) is installed in this environment too. "
            "It uses the same import name, and the two overwrite each other's files: uninstall one "
            "(pip uninstall fastembed keeps this library, published as 'cyembed').",
            RuntimeWarning,
            stacklevel=3,
        )
