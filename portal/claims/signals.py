"""What the claim workflow tells the domains built on claims, so that they depend on claims and
claims on none of them (indico's signals). A receiver runs inside the sender's transaction:
what it writes is committed or rolled back with the transition."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

claim_approved = _signals.signal(
    "claim-approved",
    doc="A claim was approved (by the rules or an auditor); sent with `today`, the local day.",
)
