"""The upstreams the demo household runs, simulated on 127.0.0.1: Plex, plex.tv and TMDB.

The demo points PLEX_URL, PLEX_TV_URL and TMDB_BASE_URL at them, so a library sync, TMDB
enrichment and webhook replay go through the same clients and actors a real install uses.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from pydantic import SecretStr

from recommendarr.demo.household import DemoLibrary, DemoUser
from recommendarr.demo.loopback import Answer, LoopbackService
from recommendarr.demo.simulated_plex import SimulatedPlex, SimulatedPlexTv
from recommendarr.demo.simulated_tmdb import SimulatedTmdb
from recommendarr.shared.domain.item_text import ItemFacts

# The most Settings allow; the simulator is local, so the limiter only has to stay out of the way.
TMDB_REQUESTS_PER_SECOND = 50.0


@dataclass(frozen=True)
class SimulatedUpstreams:
    plex: LoopbackService
    plex_tv: LoopbackService
    tmdb: LoopbackService
    plex_token: str = field(repr=False)
    tmdb_api_key: str = field(repr=False)

    def settings_update(self) -> dict[str, object]:
        return {
            "plex_url": self.plex.url,
            "plex_token": SecretStr(self.plex_token),
            "plex_tv_url": self.plex_tv.url,
            "tmdb_api_key": SecretStr(self.tmdb_api_key),
            "tmdb_base_url": f"{self.tmdb.url}/3",
            "tmdb_requests_per_second": TMDB_REQUESTS_PER_SECOND,
        }

    def describe(self) -> str:
        return (
            f"Simulated Plex, plex.tv and TMDB on 127.0.0.1:{self.plex.port}, "
            f":{self.plex_tv.port} and :{self.tmdb.port}"
        )


@contextmanager
def simulated_upstreams(
    catalog: list[ItemFacts], libraries: list[DemoLibrary], household: list[DemoUser]
) -> Iterator[SimulatedUpstreams]:
    """Running until the block exits; fresh credentials each run, checked like the real ones."""
    plex_token, tmdb_api_key = secrets.token_urlsafe(15), secrets.token_hex(16)
    with ExitStack() as running:

        def started(answer: Answer) -> LoopbackService:
            service = LoopbackService(answer)
            running.callback(service.stop)
            service.start()
            return service

        yield SimulatedUpstreams(
            plex=started(SimulatedPlex(plex_token, libraries).answer),
            plex_tv=started(SimulatedPlexTv(plex_token, household, libraries).answer),
            tmdb=started(SimulatedTmdb(tmdb_api_key, catalog).answer),
            plex_token=plex_token,
            tmdb_api_key=tmdb_api_key,
        )
