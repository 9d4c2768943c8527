"""Announcements (信息发布): the auditors publish, the stations read, the OEM follows who
read what."""
