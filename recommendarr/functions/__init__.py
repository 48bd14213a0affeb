"""One actor per module; the module name is the function name is the actor name.

Importing this package declares every actor on the broker chosen in recommendarr.broker.
"""

from recommendarr.functions.embed_item import embed_item
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.functions.rank_user import rank_user
from recommendarr.functions.reconcile_inbox import reconcile_inbox
from recommendarr.functions.refresh_profile import refresh_profile

__all__ = ["embed_item", "on_watch_event", "rank_user", "reconcile_inbox", "refresh_profile"]
