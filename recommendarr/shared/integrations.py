"""Clients for the services a household runs, built once at boot from settings.

A service that is not configured is None here, and the features that need it stay off
instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from psycopg_pool import ConnectionPool

from recommendarr.settings import Settings
from recommendarr.shared.clients.arr import RadarrClient, SonarrClient, build_arr_clients
from recommendarr.shared.clients.jellyfin import JellyfinClient, build_jellyfin
from recommendarr.shared.clients.plex import PlexClient, build_plex
from recommendarr.shared.clients.seerr import SeerrClient, build_seerr_client
from recommendarr.shared.clients.tautulli import TautulliClient, build_tautulli
from recommendarr.shared.clients.tmdb import TmdbClient, build_tmdb_client
from recommendarr.shared.db import Connection


@dataclass(frozen=True)
class Integrations:
    """One field per upstream service; each client module adds its own field and builder."""

    tmdb: TmdbClient | None = None
    radarr: dict[str, RadarrClient] = field(default_factory=dict)
    sonarr: dict[str, SonarrClient] = field(default_factory=dict)
    seerr: SeerrClient | None = None
    plex: PlexClient | None = None
    jellyfin: JellyfinClient | None = None
    tautulli: TautulliClient | None = None


def build_integrations(
    settings: Settings, http: httpx.Client, pool: ConnectionPool[Connection]
) -> Integrations:
    arr = build_arr_clients(settings, http)
    return Integrations(
        tmdb=build_tmdb_client(settings, http, pool),
        radarr=arr.radarr,
        sonarr=arr.sonarr,
        seerr=build_seerr_client(settings, http),
        plex=build_plex(settings, http),
        jellyfin=build_jellyfin(settings, http),
        tautulli=build_tautulli(settings, http),
    )
