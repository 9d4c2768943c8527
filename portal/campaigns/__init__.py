"""Recalls and service campaigns (召回 / 服务活动): their pages, progress and the work at stations."""
