"""The demo's old parts (演示旧件): the step after the claims.

Approvals have created the failed parts the stations must send back (`awaiting_return`). Here
each station packs most of its older parts into return shipments, one destination per box, and
ships them by courier; the destination (the OEM's auditor, or the supplier's user) receives
them, notes the odd part missing, and inspects them; the OEM forwards some confirmed defects to
their supplier; the holders write off a good share. The newest boxes are still packing or in
transit, and the newest parts still wait at the station. A few older parts are never shipped:
the daily overdue check (`mark_overdue`, 01:00 of each day) marks them and charges them back,
and the auditor waives a couple with a reason.

Everything goes through `portal.oldparts.operations`, and all events run in the order of their
moments (`portal.demo.clock`), before the demo's today (the last overdue check runs at 01:00
today), committed day by day. Moments and choices come from the demo's `random.Random`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from portal.demo.clock import Timeline, local_moment, quiet_notifications
from portal.demo.context import Demo
from portal.extensions import db
from portal.oldparts import operations as oldparts
from portal.oldparts.models import Inspection, OldPart, OldPartStatus, ReturnShipment

if TYPE_CHECKING:
    import random

    from portal.auth.models import User

# carrier, tracking number prefix, digits
CARRIERS = (
    ("顺丰速运 SF Express", "SF", 13),
    ("中通快递 ZTO Express", "75", 12),
    ("德邦物流 Deppon", "DPK", 12),
    ("京东物流 JD Logistics", "JDV", 12),
)
BOX_SPAN_DAYS = 10  # a box collects the parts of ten days at most
BOX_SIZE = (2, 6)
OVERDUE_PER_STATION = {"ST-SH01": 4, "ST-BJ01": 4}  # the demo logins' stations; others: 1
MISSING_SHARE = 0.04
FORWARD_SHARE = 0.45  # of the OEM's confirmed defects
WRITE_OFF_SHARE = 0.7
# Where each station's newest boxes stop, the newest last (the older ones go as far as their
# moments reach): one received and not yet inspected, one in transit, one still packing.
RECEIVED, IN_TRANSIT, PACKING = "received", "in_transit", "packing"
LAST_FATES = (RECEIVED, IN_TRANSIT, PACKING)

INSPECTIONS = (
    (Inspection.CONFIRMED_DEFECT, 70),
    (Inspection.NO_FAULT_FOUND, 12),
    (Inspection.MISUSE, 10),
    (Inspection.WRONG_PART, 8),
)
INSPECTION_NOTES = {
    Inspection.CONFIRMED_DEFECT: (
        "",
        "",
        "拆检确认内部损坏，与故障描述一致。",
        "台架测试复现故障，属制造缺陷。",
        "密封件老化开裂，确认质量问题。",
        "轴承磨损异常，判定为材料缺陷。",
    ),
    Inspection.NO_FAULT_FOUND: (
        "台架测试各项参数正常，未复现故障。",
        "通电检测功能正常，未发现异常。",
        "拆检未见损坏，疑为误判更换。",
    ),
    Inspection.MISUSE: (
        "发现严重过载痕迹，属使用不当。",
        "进水腐蚀，系车辆涉水所致，非质量问题。",
        "机油严重缺失导致烧蚀，属保养不当。",
        "外壳有明显撞击变形，属外力损坏。",
    ),
    Inspection.WRONG_PART: (
        "返回件零件号与索赔单不符，请服务站说明。",
        "返回件为副厂件，非原厂装车件。",
        "旧件铭牌编号与车辆记录不一致。",
    ),
}
RECEIVE_NOTES = ("", "", "", "", "包装完好。", "外包装轻微破损，零件完好。", "标签有污损，已核对。")
MISSING_NOTES = (
    "装箱单上有此件，箱内未见实物。",
    "到货缺少该件，请服务站核查。",
)
WRITE_OFF_NOTES = ("", "", "已报废处理。", "已入废品库。", "已拆解回收。", "鉴定完毕，核销。")
WAIVE_REASONS = (
    "物流公司停运，服务站已提供证明。",
    "该件已在现场由区域经理确认报废，免于扣款。",
    "春节期间物流延误，特批免扣。",
)


@dataclass
class Box:
    """A return shipment as planned: its parts and, once created, the shipment."""

    sender: User
    parts: list[OldPart]
    shipment: ReturnShipment | None = None


def _boxes(rng: random.Random, parts: list[OldPart]) -> list[list[OldPart]]:
    """Consecutive parts (by creation) for one destination, a few days' worth per box."""
    by_destination: dict[int, list[OldPart]] = defaultdict(list)
    for part in parts:
        by_destination[part.destination_org_id].append(part)
    boxes = []
    for group in by_destination.values():
        box: list[OldPart] = []
        size = rng.randint(*BOX_SIZE)
        for part in group:
            if box and (
                len(box) >= size
                or part.created_at - box[0].created_at > timedelta(days=BOX_SPAN_DAYS)
            ):
                boxes.append(box)
                box, size = [], rng.randint(*BOX_SIZE)
            box.append(part)
        if box:
            boxes.append(box)
    return sorted(boxes, key=lambda box: (box[-1].created_at, box[-1].tag))


def _tracking(rng: random.Random) -> tuple[str, str]:
    carrier, prefix, digits = rng.choice(CARRIERS)
    return carrier, f"{prefix}{rng.randrange(10 ** (digits - 1), 10**digits)}"


def add_old_parts(demo: Demo) -> None:
    """Return shipments in every state, inspections of every result, write-offs, overdue parts."""
    rng, today = demo.rng, demo.today
    auditor = demo.users["auditor"]
    timeline = Timeline(rng, end=local_moment(today, 0))
    parts = list(
        db.session.scalars(
            sa.select(OldPart)
            .where(OldPart.status == OldPartStatus.AWAITING_RETURN)
            .order_by(OldPart.created_at, OldPart.tag)
        )
    )
    by_station: dict[int, list[OldPart]] = defaultdict(list)
    for part in parts:
        by_station[part.station_id].append(part)
    overdue: list[OldPart] = []
    # The demo logins' stations each keep one part forwarded to its supplier and not written
    # off, whatever day the demo is built on (random shares alone may leave none).
    unforwarded = {s.id for s in demo.stations if s.code in OVERDUE_PER_STATION}
    for station in demo.stations:
        own = by_station.get(station.id, [])
        late = [part for part in own if part.deadline < today - timedelta(days=3)]
        kept = rng.sample(late, min(len(late), OVERDUE_PER_STATION.get(station.code, 1)))
        overdue += kept
        sender = demo.org_users[station.code]
        fresh = timeline.end - timedelta(days=1)  # yesterday's parts wait for the next box
        boxes = _boxes(rng, [p for p in own if p not in kept and p.created_at < fresh])
        fates = [None] * (len(boxes) - len(LAST_FATES)) + list(LAST_FATES[-len(boxes) :])
        for box, fate in zip(boxes, fates, strict=True):
            _plan_box(timeline, Box(sender, box), auditor, demo, unforwarded, fate)
    _plan_overdue(timeline, overdue, auditor, demo)
    with quiet_notifications():
        timeline.run()
    db.session.commit()


def _receiver(demo: Demo, part: OldPart, auditor: User) -> User:
    return auditor if part.destination.is_oem else demo.org_users[part.destination.code]


def _plan_box(
    timeline: Timeline,
    box: Box,
    auditor: User,
    demo: Demo,
    unforwarded: set[int],
    fate: str | None = None,
) -> None:
    """Pack, ship, receive and inspect as far as the box's moments reach before the end, or
    as far as its `fate` says. A confirmed defect of a station in `unforwarded` is forwarded."""
    rng = timeline.rng
    packed = timeline.after(box.parts[-1].created_at, 1, 3)
    if fate == PACKING:  # packed in the last hours, not shipped yet
        recent = timeline.end - timedelta(hours=rng.randint(4, 16))
        packed = max(min(packed, recent), box.parts[-1].created_at + timedelta(minutes=30))

    def pack() -> None:
        box.shipment = oldparts.create_return_shipment(box.sender, [p.tag for p in box.parts])

    if not timeline.add(packed, pack) or fate == PACKING:
        return
    shipped = timeline.after(packed, 0, 1)
    carrier, tracking_no = _tracking(rng)
    if not timeline.add(
        shipped, lambda: oldparts.ship(box.shipment, box.sender, carrier, tracking_no)
    ):
        return
    arrived = timeline.after(shipped, 2, 5)
    if arrived >= timeline.end or fate == IN_TRANSIT:
        return
    receiver = _receiver(demo, box.parts[0], auditor)
    missing = [part for part in box.parts if rng.random() < MISSING_SHARE]
    received = [part for part in box.parts if part not in missing]
    for part in received:
        note = rng.choice(RECEIVE_NOTES)
        timeline.add(
            arrived, lambda p=part, n=note: oldparts.receive(box.shipment, receiver, p.tag, n)
        )
    for part in missing:
        note = rng.choice(MISSING_NOTES)
        timeline.add(
            arrived,
            lambda p=part, n=note: oldparts.report_missing(box.shipment, receiver, p.tag, n),
        )
    if fate == RECEIVED:
        return
    to_forward: dict[int, list[tuple[OldPart, datetime]]] = defaultdict(list)
    for part in received:
        inspected = timeline.after(arrived, 0, 4)
        result = rng.choices([r for r, _ in INSPECTIONS], [w for _, w in INSPECTIONS])[0]
        note = rng.choice(INSPECTION_NOTES[result])
        if not timeline.add(
            inspected, lambda p=part, r=result, n=note: oldparts.inspect(p, receiver, r, n)
        ):
            continue
        if (
            part.destination.is_oem
            and result is Inspection.CONFIRMED_DEFECT
            and (rng.random() < FORWARD_SHARE or part.station_id in unforwarded)
        ):
            to_forward[part.supplier_id].append((part, inspected))
        elif rng.random() < WRITE_OFF_SHARE:
            note = rng.choice(WRITE_OFF_NOTES)
            timeline.add(
                timeline.after(inspected, 2, 12),
                lambda p=part, n=note: oldparts.write_off(p, receiver, n),
            )
    for group in to_forward.values():
        _plan_forward(
            timeline, [p for p, _ in group], max(m for _, m in group), auditor, demo, unforwarded
        )


def _plan_forward(
    timeline: Timeline,
    parts: list[OldPart],
    inspected: datetime,
    auditor: User,
    demo: Demo,
    unforwarded: set[int],
) -> None:
    """The OEM packs inspected defects for their supplier and ships them; the supplier writes
    off most of what arrived, but not the one part each station in `unforwarded` keeps."""
    rng = timeline.rng
    forward = Box(auditor, parts)
    packed = timeline.after(inspected, 1, 4)

    def pack() -> None:
        forward.shipment = oldparts.forward_to_supplier(auditor, [p.tag for p in parts])

    if not timeline.add(packed, pack):
        return
    carrier, tracking_no = _tracking(rng)
    shipped = timeline.after(packed, 0, 1)
    if not timeline.add(
        shipped, lambda: oldparts.ship(forward.shipment, auditor, carrier, tracking_no)
    ):
        return
    supplier_user = demo.org_users[parts[0].supplier.code]
    for part in parts:
        chance = rng.random()
        if part.station_id in unforwarded:
            unforwarded.discard(part.station_id)  # this one stays forwarded
            continue
        if chance < WRITE_OFF_SHARE:
            note = rng.choice(WRITE_OFF_NOTES)
            timeline.add(
                timeline.after(shipped, 4, 10),
                lambda p=part, n=note: oldparts.write_off(p, supplier_user, n),
            )


def _plan_overdue(timeline: Timeline, overdue: list[OldPart], auditor: User, demo: Demo) -> None:
    """The daily overdue check from the first deadline on, and a couple of waivers."""
    today = demo.today
    deadlines = [part.deadline for part in overdue]
    if not deadlines:
        return
    day = min(deadlines) + timedelta(days=1)
    while day <= today:
        moment = local_moment(day, 60)
        if day == today:  # the last run: today's, at 01:00, after everything else
            timeline.append(moment, lambda d=day: oldparts.mark_overdue(d))
        else:
            timeline.add(moment, lambda d=day: oldparts.mark_overdue(d))
        day += timedelta(days=1)
    waived = [
        next(part for part in overdue if part.station_id == station.id)
        for station in demo.stations[:2]
    ]
    others = [p for p in overdue if p.station_id not in {w.station_id for w in waived}]
    waived.append(timeline.rng.choice(others))
    for part, reason in zip(waived, WAIVE_REASONS, strict=True):
        marked = local_moment(part.deadline + timedelta(days=1), 60)
        timeline.add(
            timeline.after(marked, 1, 3),
            lambda p=part, r=reason: oldparts.waive_overdue(p, auditor, r),
        )
