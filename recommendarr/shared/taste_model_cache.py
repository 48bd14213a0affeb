"""The latest fitted taste model, loaded once per process and reloaded when a newer one lands."""

from __future__ import annotations

import threading

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.taste_model import ServerModel, load_model
from recommendarr.shared.store import taste_models


class TasteModelCache:
    """Every rank_user in a worker scores with the same model: unpacking the archive on each
    call would cost more than the ranking itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: tuple[str, tuple[int, ServerModel]] | None = None

    def latest(self, conn: Connection) -> tuple[int, ServerModel] | None:
        newest = taste_models.latest(conn)
        if newest is None:
            return None
        model_id, input_hash = newest
        with self._lock:
            if self._loaded is not None and self._loaded[0] == input_hash:
                return self._loaded[1]
        data = taste_models.archive(conn, model_id)
        if data is None:
            return None
        loaded = (model_id, load_model(data))
        with self._lock:
            self._loaded = (input_hash, loaded)
        return loaded
