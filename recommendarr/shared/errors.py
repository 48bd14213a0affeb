"""Error classes that decide what happens to a failed message."""


class Permanent(Exception):  # noqa: N818 - the name is the retry policy, read at call sites
    """Retrying cannot help (bad input, a missing model). Listed in every actor's throws=."""


class Transient(Exception):  # noqa: N818
    """An upstream hiccup (timeout, 5xx, 429). Retried with backoff up to max_retries."""


class NotFound(Permanent):
    """The row a message points at is gone; the actor logs and returns instead of raising."""
