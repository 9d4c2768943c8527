"""The sign-in throttle: failed sign-ins counted per account and per client address.

Only failures count, so a whole office signing in through one proxy at the start of a shift is
never slowed down. An account with too many recent failures (LOGIN_ACCOUNT_FAILURES, e.g. "5 per
15 minutes") is refused, without its password being checked, until the oldest of those failures
leaves the window; other accounts are unaffected. A client address has a much higher allowance
(LOGIN_ADDRESS_FAILURES) against password spraying across many accounts. Unknown usernames count
exactly as existing ones, so a refusal never tells whether an account exists.

The counts are moving windows of the `limits` library, kept in Redis when REDIS_URL is set (shared
by every web process) and in the process's memory otherwise. RATELIMIT_ENABLED=false turns the
throttle off.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app
from flask_babel import ngettext
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from portal.auth.models import User
from portal.auth.operations import authenticate

log = logging.getLogger(__name__)

ACCOUNT = "account"
ADDRESS = "address"
USERNAME_KEY_LENGTH = 64  # usernames are at most 64 characters; longer input is cut to that


class SignInThrottled(Exception):
    """Too many recent failures for this account (`scope` "account") or from this client address
    ("address"): no sign-in is tried for `retry_after` seconds."""

    def __init__(self, scope: str, retry_after: int):
        super().__init__(scope, retry_after)
        self.scope = scope
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        if self.scope == ACCOUNT:
            return ngettext(
                "Too many failed sign-ins for this account. Try again in %(num)d minute.",
                "Too many failed sign-ins for this account. Try again in %(num)d minutes.",
                minutes,
            )
        return ngettext(
            "Too many failed sign-ins from your network. Try again in %(num)d minute.",
            "Too many failed sign-ins from your network. Try again in %(num)d minutes.",
            minutes,
        )


class LoginThrottle:
    """Failed sign-ins per account and per address, in `storage_uri` ("memory://", "redis://")."""

    def __init__(
        self, storage_uri: str, account_limit: str, address_limit: str, key_prefix: str = "login"
    ):
        self.storage = storage_from_string(
            storage_uri,
            key_prefix=key_prefix,
            wrap_exceptions=True,
            socket_connect_timeout=2,
            socket_timeout=2,
        )
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.limits: dict[str, RateLimitItem] = {
            ACCOUNT: parse(account_limit),
            ADDRESS: parse(address_limit),
        }

    @staticmethod
    def _keys(username: str, address: str | None) -> dict[str, str]:
        return {
            ACCOUNT: username.strip().lower()[:USERNAME_KEY_LENGTH],
            ADDRESS: address or "unknown",
        }

    def refusal(self, username: str, address: str | None) -> SignInThrottled | None:
        """Why an attempt for `username` from `address` is refused now, or None to let it in."""
        for scope, key in self._keys(username, address).items():
            item = self.limits[scope]
            if not self.limiter.test(item, scope, key):
                reset_at = self.limiter.get_window_stats(item, scope, key).reset_time
                return SignInThrottled(scope, max(1, math.ceil(reset_at - time.time())))
        return None

    def failed(self, username: str, address: str | None) -> None:
        for scope, key in self._keys(username, address).items():
            self.limiter.hit(self.limits[scope], scope, key)

    def succeeded(self, username: str) -> None:
        """A successful sign-in forgets the account's failures (the address keeps its count)."""
        key = self._keys(username, None)[ACCOUNT]
        self.limiter.clear(self.limits[ACCOUNT], ACCOUNT, key)


def init_app(app: Flask) -> None:
    throttle = None
    if app.config["RATELIMIT_ENABLED"]:
        throttle = LoginThrottle(
            app.config["RATELIMIT_STORAGE_URI"],
            app.config["LOGIN_ACCOUNT_FAILURES"],
            app.config["LOGIN_ADDRESS_FAILURES"],
            app.config.get("RATELIMIT_KEY_PREFIX") or "login",
        )
    app.extensions["login_throttle"] = throttle


def sign_in(username: str, password: str, address: str | None) -> User | None:
    """`authenticate` behind the throttle: the active user with these credentials, or None
    (counted as a failure); raises SignInThrottled, without checking the password, while the
    account or the address has too many recent failures.

    When the throttle's storage (Redis) cannot be reached, sign-in goes on unthrottled and the
    outage is logged: the portal stays usable."""
    throttle: LoginThrottle | None = current_app.extensions.get("login_throttle")
    if throttle is None:
        return authenticate(username, password)
    try:
        refusal = throttle.refusal(username, address)
    except StorageError:
        log.exception("sign-in throttle unavailable: sign-in is not throttled")
        return authenticate(username, password)
    if refusal is not None:
        raise refusal
    user = authenticate(username, password)
    try:
        if user is None:
            throttle.failed(username, address)
        else:
            throttle.succeeded(username)
    except StorageError:
        log.exception("sign-in throttle unavailable: this attempt was not counted")
    return user
