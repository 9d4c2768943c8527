"""What the old-part workflow tells the domains built on it (settlement), so that old parts
depend on none of them. A receiver runs inside the sender's transaction."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

finding_in_force = _signals.signal(
    "finding-in-force",
    doc="An inspection result now counts for money (recorded by the OEM, or a supplier's "
    "finding confirmed or overruled); sent with the old part and `user`.",
)
overdue_waived = _signals.signal(
    "overdue-waived",
    doc="An overdue old part's charge was waived; sent with the old part, `user` and `charge` "
    "(the station charge, or None).",
)
