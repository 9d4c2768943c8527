"""A claim's history as its pages show it: each submitted version with what changed."""

from __future__ import annotations

from portal.claims.models import Claim, ClaimStatus
from portal.claims.operations import diff_snapshots, snapshot


def version_history(claim: Claim) -> tuple[list, list]:
    """Each submitted version, newest first, with what changed since the one before it; and
    for a returned claim, the station's edits not yet submitted."""
    versions = []
    previous = None
    for version in claim.versions:
        changes = diff_snapshots(previous, version.snapshot) if previous is not None else []
        versions.append((version, changes))
        previous = version.snapshot
    pending_changes = []
    if claim.status is ClaimStatus.RETURNED and previous is not None:
        pending_changes = diff_snapshots(previous, snapshot(claim))
    return list(reversed(versions)), pending_changes
