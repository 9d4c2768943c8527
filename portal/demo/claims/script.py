"""Scripts: one claim's events, run by `Run` through the real operations, each at its moment
(`portal.demo.clock.run_in_order`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from portal.auth.models import User
from portal.claims.attachments import add_attachment
from portal.claims.decisions import Decision, decide_claim
from portal.claims.fulfilment import confirm_receipt, ship_emergency_part
from portal.claims.models import Claim, ClaimSettings, ClaimStatus
from portal.claims.operations import add_comment, create_claim, submit_claim, update_claim
from portal.claims.payload import parse_claim
from portal.demo.context import DemoError

Payload = dict | Callable[["Run"], dict]
Files = list[tuple[str, bytes]]
DecisionMaker = Callable[[Claim, "Run"], Decision]


@dataclass
class Script:
    """What one claim says and what happens to it; `Run` executes it event by event."""

    key: str
    user: User
    payloads: list[Payload]  # version 1, then what each resubmission says
    files: list[Files]  # attached with each version
    expects: list[ClaimStatus] = field(default_factory=list)  # after each submission
    returns: list[str] = field(default_factory=list)  # the reason of each return
    decision: DecisionMaker | None = None
    decided: ClaimStatus | None = None
    comments: list[tuple[User, str]] = field(default_factory=list)
    shipper: User | None = None
    shipment: tuple[str, str, Decimal] | None = None  # carrier, tracking number, freight


@dataclass
class Event:
    day: date
    script: Script
    action: str  # create, submit, return, resubmit, comment, decide, ship, receive
    moment: datetime | None = None


class Run:
    """Executes the events of every script through the real operations."""

    def __init__(self, auditor: User) -> None:
        self.auditor = auditor
        # Held, so that it stays in the session's (weak) identity map for every submission.
        self.settings = ClaimSettings.current()
        self.claims: dict[str, Claim] = {}
        self.versions: dict[str, int] = {}
        self.submissions: dict[str, int] = {}
        self.returned: dict[str, int] = {}
        self.comments: dict[str, int] = {}

    def payload(self, script: Script, version: int) -> dict:
        payload = script.payloads[min(version, len(script.payloads)) - 1]
        return payload(self) if callable(payload) else payload

    def __call__(self, event: Event) -> None:
        getattr(self, "do_" + event.action)(event.script, event.day)

    def do_create(self, script: Script, day: date) -> None:
        claim = create_claim(script.user, parse_claim(self.payload(script, 1)), today=day)
        self.claims[script.key], self.versions[script.key] = claim, 1
        self._attach(script, claim, 1)

    def _attach(self, script: Script, claim: Claim, version: int) -> None:
        if version <= len(script.files):
            for name, data in script.files[version - 1]:
                add_attachment(claim, script.user, name, data)

    def do_submit(self, script: Script, day: date) -> None:
        claim = self.claims[script.key]
        submit_claim(claim, script.user, today=day)
        index = self.submissions.get(script.key, 0)
        self.submissions[script.key] = index + 1
        expected = script.expects[index]
        if claim.status is not expected:
            flags = ", ".join(f.rule for f in claim.current_flags) or "none"
            raise DemoError(
                f"{claim.number} is {claim.status.value} after submission {index + 1}, not "
                f"{expected.value} (total {claim.total_amount}, flags: {flags})"
            )

    def do_resubmit(self, script: Script, day: date) -> None:
        claim = self.claims[script.key]
        version = self.versions[script.key] + 1
        self.versions[script.key] = version
        update_claim(claim, script.user, parse_claim(self.payload(script, version)), today=day)
        self._attach(script, claim, version)
        self.do_submit(script, day)

    def do_return(self, script: Script, day: date) -> None:
        index = self.returned.get(script.key, 0)
        self.returned[script.key] = index + 1
        claim = self.claims[script.key]
        decide_claim(
            claim.id, self.auditor, Decision("return", reason=script.returns[index]), today=day
        )
        self._expect(claim, ClaimStatus.RETURNED)

    def do_comment(self, script: Script, day: date) -> None:
        index = self.comments.get(script.key, 0)
        self.comments[script.key] = index + 1
        user, body = script.comments[index]
        add_comment(self.claims[script.key], user, body)

    def do_decide(self, script: Script, day: date) -> None:
        claim = self.claims[script.key]
        decide_claim(claim.id, self.auditor, script.decision(claim, self), today=day)
        self._expect(claim, script.decided)

    def do_ship(self, script: Script, day: date) -> None:
        carrier, tracking, freight = script.shipment
        ship_emergency_part(self.claims[script.key], script.shipper, carrier, tracking, freight)

    def do_receive(self, script: Script, day: date) -> None:
        confirm_receipt(self.claims[script.key], script.user)

    @staticmethod
    def _expect(claim: Claim, status: ClaimStatus | None) -> None:
        if claim.status is not status:
            raise DemoError(f"{claim.number} is {claim.status.value}, not {status}")
