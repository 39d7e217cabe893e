"""Who drives a campaign: a lease in the ``campaigns`` row, so two processes never run one.

The lease names its owner (``host:pid``) and expires unless renewed (every loop tick). A process
killed without releasing it (SIGKILL, power loss) is taken over at once when it ran on this host
and its pid is gone, otherwise when the lease expires.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import select, update

from design.errors import CampaignError
from design.store.database import CampaignRecord, Store, utcnow

__all__ = ["acquire_lease", "dead_owners", "release_lease", "this_owner"]


def acquire_lease(
    store: Store, name: str, owner: str, *, ttl_s: float, force_from: set[str]
) -> None:
    """Take (or renew) the right to drive a campaign.

    Args:
        owner: this process (``host:pid``).
        ttl_s: how long the lease holds without renewal.
        force_from: owners known to be dead (their lease is taken over even if not expired).

    Raises:
        CampaignError: another live process drives the campaign.
    """
    now = utcnow()
    with store.transaction() as s:
        rec = s.scalar(select(CampaignRecord).where(CampaignRecord.name == name).with_for_update())
        if rec is None:
            raise CampaignError(f"no campaign named {name!r}")
        until = rec.lease_until
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=now.tzinfo)
        held = rec.lease_owner and rec.lease_owner != owner and until is not None and until > now
        if held and rec.lease_owner not in force_from:
            raise CampaignError(
                f"campaign {name!r} is being run by {rec.lease_owner} (lease until "
                f"{until:%H:%M:%S} UTC); wait for it to stop or stop that process first"
            )
        rec.lease_owner = owner
        rec.lease_until = now + timedelta(seconds=ttl_s)


def release_lease(store: Store, name: str, owner: str) -> None:
    """Give the lease back if this process holds it."""
    with store.transaction() as s:
        s.execute(
            update(CampaignRecord)
            .where(CampaignRecord.name == name, CampaignRecord.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


def this_owner() -> str:
    """This process, as a lease owner: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def dead_owners(owner: str | None) -> set[str]:
    """Owners on this host whose process is gone (their lease may be taken over at once)."""
    if not owner or ":" not in owner:
        return set()
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return set()
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return {owner}
    except PermissionError:
        return set()
    return set()
