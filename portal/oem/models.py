"""The records the OEM's auditors work with, kept where their domain is: reason codes for cuts
with the claims (`portal.claims.models`), announcements with theirs
(`portal.announcements.models`). Importable from here as before."""

from __future__ import annotations

from portal.announcements.models import Announcement, AnnouncementRead, announcement_station
from portal.claims.models import SEEDED_REASON_CODES, ReasonCode

__all__ = [
    "SEEDED_REASON_CODES",
    "Announcement",
    "AnnouncementRead",
    "ReasonCode",
    "announcement_station",
]
