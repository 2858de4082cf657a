"""Keras-style lookup of configurable objects by name, by stored config, or as is."""


def resolve(identifier, base, by_name, kind):
    """Return an instance of ``base`` for ``identifier``.

    Parameters
    ----------
    identifier : str, dict or base instance
        A name from ``by_name`` (case-insensitive), a ``{"class_name", "config"}`` dict as
        :func:`serialize` writes, or an instance (returned unchanged).
    base : type
    by_name : dict of name -> class
    kind : str
        What the error message calls it ("loss", "optimizer", ...).
    """
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in by_name:
        return by_name[identifier.lower()]()
    if isinstance(identifier, dict):
        classes = {cls.__name__: cls for cls in by_name.values()}
        cls = classes.get(identifier.get("class_name"))
        if cls is not None:
            return cls(**identifier.get("config", {}))
    raise ValueError("unknown %s %r; expected one of %s or a %s" % (kind, identifier, sorted(by_name), base.__name__))


def serialize(instance):
    """``{"class_name", "config"}``: what :func:`resolve` turns back into the instance."""
    return {"class_name": type(instance).__name__, "config": instance.get_config()}
