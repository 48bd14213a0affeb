"""Clients for the services a household runs, built once at boot from settings.

A service that is not configured is None here, and the features that need it stay off
instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from recommendarr.settings import Settings


@dataclass(frozen=True)
class Integrations:
    """One field per upstream service; each client module adds its own field and builder."""


def build_integrations(settings: Settings, http: httpx.Client) -> Integrations:
    return Integrations()
