"""Recalls and service campaigns (召回 / 服务活动): pages, progress, the work at stations."""
