"""The one exception the commands raise for user mistakes (printed as one line, exit 2)."""


class UserError(Exception):
    """A mistake the user can fix: a missing file, an unknown word, a bad option value."""
