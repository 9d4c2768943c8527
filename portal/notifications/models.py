"""In-portal notifications (also sent by e-mail when SMTP is configured)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal import messages
from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class Notification(db.Model):
    """A message to one user, kept as a key and parameters (portal.messages) and written out in
    the reader's language when read; `message` is its English text (the log, old rows)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(sa.Text)  # in English: the log, rows without a key
    message_key: Mapped[str | None] = mapped_column(sa.String(60))
    params: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    link: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.Index("ix_notification_user_id_read_at", "user_id", "read_at"),)

    @property
    def text(self) -> str:
        """The message in the reader's language."""
        if self.message_key in messages.MESSAGES:
            return messages.render(self.message_key, self.params)
        return self.message
