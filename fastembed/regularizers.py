"""Weight regularisers (Keras names)."""

from __future__ import annotations

from typing import Any


class L2:
    """Penalty ``l2 * sum(w ** 2)``; its gradient ``2 * l2 * w`` is added to the weight's.

    On an Embedding it is applied lazily: to the rows a batch touches, inside the sparse
    update, as weight decay."""

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = float(l2)
        if self.l2 < 0:
            raise ValueError("l2 must be >= 0, got %r" % (l2,))

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {"l2": self.l2}

    def __repr__(self) -> str:
        return "L2(l2=%r)" % self.l2


l2 = L2


def get(identifier: Any) -> L2 | None:
    """Return an L2 for None, ``'l2'``, a ``{"class_name", "config"}`` dict or an L2."""
    if identifier is None or isinstance(identifier, L2):
        return identifier
    if identifier == "l2":
        return L2()
    if isinstance(identifier, dict) and identifier.get("class_name") == "L2":
        return L2(**identifier.get("config", {}))
    raise ValueError("unknown regularizer %r; expected None, 'l2' or regularizers.l2(value)" % (identifier,))


def serialize(regularizer: L2 | None) -> dict[str, Any] | None:
    """A JSON-able description (None stays None)."""
    return None if regularizer is None else {"class_name": "L2", "config": regularizer.get_config()}
