"""One actor per module; the module name is the function name is the actor name.

Importing this package declares every actor on the broker chosen in recommendarr.broker.
"""

from recommendarr.functions.check_integration import check_integration
from recommendarr.functions.embed_item import embed_item
from recommendarr.functions.enrich_item import enrich_item
from recommendarr.functions.fit_taste_model import fit_taste_model
from recommendarr.functions.map_event import map_event
from recommendarr.functions.on_arr_event import on_arr_event
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.functions.poll_tautulli import poll_tautulli
from recommendarr.functions.rank_user import rank_user
from recommendarr.functions.reconcile_derived import reconcile_derived
from recommendarr.functions.reconcile_inbox import reconcile_inbox
from recommendarr.functions.refresh_profile import refresh_profile
from recommendarr.functions.request_grab import request_grab
from recommendarr.functions.scout_trending import scout_trending
from recommendarr.functions.sync_arr import sync_arr
from recommendarr.functions.sync_library import sync_library

__all__ = [
    "check_integration",
    "embed_item",
    "enrich_item",
    "fit_taste_model",
    "map_event",
    "on_arr_event",
    "on_watch_event",
    "poll_tautulli",
    "rank_user",
    "reconcile_derived",
    "reconcile_inbox",
    "refresh_profile",
    "request_grab",
    "scout_trending",
    "sync_arr",
    "sync_library",
]
