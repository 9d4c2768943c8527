"""The demo's claims and announcements (演示索赔单与信息发布): the steps after the master data.

Half a year of a warranty department at work: several hundred claims and requests of every
type, filed by the eight stations and reviewed by the auditor, in every state but `settled`
(settlement is a later capability). Every claim goes through the real workflow, so its number,
amounts, flags, versions, events, comments, attachments and notifications are what the portal
itself makes: `create_claim`, `add_attachment`, `submit_claim` (checks, flags, auto-approval),
`decide_claim` (line cuts with reason codes, rejections, returns), `update_claim` and a new
submission for a returned claim, `add_comment`, and the shipment and receipt of emergency parts.
A claim the checks refuse is a bug in the demo and raises.

How it is built:

1. *Intents* (`CLAIM_MIX`): what each story ends as, e.g. "a costly repair, returned once for
   photos, then partially approved" or "an appraisal approved, then its major-assembly claim".
2. Each intent gets the days of its events (create, submit, return, resubmit, comment, decide,
   ship, receive) and a start day within the last half year; an intent that ends in a state
   people are still working on (a draft, a claim in review, a returned one) ends recently.
3. In the order of their start days, each intent gets a vehicle and a repair that fit: sold
   before the repair, inside the coverage of the causal part's group (or outside it, with a
   goodwill reason, when that is the story), odometer readings that only grow per vehicle, no
   accidental duplicate, and an amount that lands where the story needs it (under the
   auto-approval threshold, or not).
4. All events of all stories then run in the order of their moments. The operations stamp rows
   with the real clock; a `SimulatedClock` moves each stamp to the moment the story says it
   happened, so ages in the queue, cycle times and "approved this month" read as in a portal in
   use for half a year. Only timestamps are moved: states, flags and amounts are the
   operations' own.

Everything comes from the demo's `random.Random`, and days are relative to the demo's today.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified

from portal.announcements import operations as announcements
from portal.auth.models import Role, User
from portal.claims.attachments import add_attachment
from portal.claims.decisions import Decision, LineDecision, decide_claim
from portal.claims.fulfilment import confirm_receipt, ship_emergency_part
from portal.claims.models import (
    Claim,
    ClaimLine,
    ClaimSettings,
    ClaimStatus,
    LineKind,
)
from portal.claims.operations import add_comment, create_claim, submit_claim, update_claim
from portal.claims.payload import parse_claim
from portal.claims.rules import APPRAISAL_VALID_DAYS, DUPLICATE_WINDOW_DAYS
from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.masterdata.coverage import coverage_of
from portal.masterdata.models import Part, Station, Vehicle
from portal.money import round_money
from portal.notifications.models import Notification

if TYPE_CHECKING:
    import random

    from portal.demo import Demo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DAYS_BACK = 182  # the demo's claims span the last half year
ZERO = Decimal("0.00")
HALF = Decimal("0.5")

# Statuses a story ends in (`Intent.outcome`): what the station's list and the queue show.
DRAFT, AUTO, REVIEW, APPROVE, PARTIAL, REJECT, RETURN = (
    "draft", "auto", "review", "approve", "partial", "reject", "return",
)  # fmt: skip
FINAL_STATUS = {
    DRAFT: ClaimStatus.DRAFT,
    AUTO: ClaimStatus.APPROVED,
    REVIEW: ClaimStatus.IN_REVIEW,
    APPROVE: ClaimStatus.APPROVED,
    PARTIAL: ClaimStatus.PARTIALLY_APPROVED,
    REJECT: ClaimStatus.REJECTED,
    RETURN: ClaimStatus.RETURNED,
}
# A story ending in a state people still work on ends this many days ago at most.
RECENT_DAYS = {DRAFT: 14, REVIEW: 35, RETURN: 20}


class DemoError(RuntimeError):
    """The demo built a claim that did not behave as its story says: a bug in the demo."""


# ---------------------------------------------------------------------------------------------
# Small real files: a PNG photo and a one-page PDF (attachments are checked by their content)
# ---------------------------------------------------------------------------------------------


def png_photo(rng: random.Random, width: int = 24, height: int = 16) -> bytes:
    """A tiny valid PNG: a two-colour diagonal pattern (RGB, 8 bits, no interlace)."""
    base = [rng.randint(40, 200) for _ in range(3)]
    accent = [min(255, c + rng.randint(30, 55)) for c in base]
    rows = []
    for y in range(height):
        pixels = b"".join(bytes(accent if (x + y) % 6 < 2 else base) for x in range(width))
        rows.append(b"\x00" + pixels)  # filter type 0 per scanline

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def pdf_document(lines: list[str]) -> bytes:
    """A minimal valid one-page A4 PDF showing `lines` (ASCII) in Helvetica, with its xref."""

    def escape(text: str) -> str:
        text = text.encode("ascii", "replace").decode("ascii")
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    shown = " ".join(f"({escape(line)}) Tj T*" for line in lines)
    content = f"BT /F1 12 Tf 16 TL 56 780 Td {shown} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# What happens to the vehicles: repairs, major assemblies, roadside trips (中文 + English)
# ---------------------------------------------------------------------------------------------


class Text(NamedTuple):
    zh: str
    en: str

    @property
    def both(self) -> str:
        """Chinese first, then English: how the OEM writes what every station reads."""
        return f"{self.zh} {self.en}"


class Extra(NamedTuple):
    """A further line of a repair: a part (`ref` is a catalogue number) or an amount."""

    kind: str  # "part" or "other"
    ref: str  # part number without the model suffix, or the description
    amount: str = ""  # for "other"


class Scenario(NamedTuple):
    """A failure and its repair: causal part, fault code, labor operation and the story."""

    part: str  # catalogue number without the model suffix (1307010 -> 1307010-T5)
    fault: str
    operation: str
    complaint: Text
    cause: Text
    correction: Text
    extras: tuple[Extra, ...] = ()
    qty: int = 1


T = Text
COOLANT = Extra("other", "冷却液 Coolant 10L", "160.00")
ENGINE_OIL = Extra("other", "发动机机油 Engine oil 15L", "420.00")
GEAR_OIL = Extra("other", "齿轮油 Gear oil 12L", "300.00")
DIAGNOSIS_FEE = "诊断费 Diagnosis fee"
TOWING_FEE = "拖车费 Towing fee"


REPAIR_SCENARIOS = (
    Scenario(
        "1307010",
        "P0217",
        "W1307-01",
        T(
            "行驶中水温报警灯亮，发动机舱有冷却液渗漏痕迹。",
            "Coolant temperature warning on the road; coolant traces in the engine bay.",
        ),
        T(
            "水泵水封失效渗漏，水泵轴承旷量超标。",
            "Water pump seal failed and leaks; bearing play out of limit.",
        ),
        T(
            "更换水泵总成，加注冷却液，试车无渗漏。",
            "Replaced the water pump, refilled coolant; road test without leaks.",
        ),
        (COOLANT,),
    ),
    Scenario(
        "1306010",
        "P0217",
        "W1306-01",
        T(
            "发动机升温后水温表指针偏高，开暖风不热。",
            "Engine runs hot once warm; heater blows cold.",
        ),
        T(
            "节温器卡滞在关闭位置，大循环不开启。",
            "Thermostat stuck closed; the main circuit never opens.",
        ),
        T(
            "更换节温器，排空冷却系统空气后试车正常。",
            "Replaced the thermostat and bled the cooling system; road test normal.",
        ),
        (COOLANT,),
    ),
    Scenario(
        "1301010",
        "P0217",
        "W1301-01",
        T(
            "冷却液液位频繁下降，散热器下部有白色水垢。",
            "Coolant level keeps dropping; white residue under the radiator.",
        ),
        T("散热器芯体焊缝开裂渗漏。", "Radiator core seam cracked and leaking."),
        T(
            "更换散热器，加注冷却液，保压测试无泄漏。",
            "Replaced the radiator, refilled coolant; pressure test passed.",
        ),
        (COOLANT,),
    ),
    Scenario(
        "1011010",
        "P0524",
        "W1011-01",
        T(
            "仪表机油压力报警灯闪亮，怠速时尤为明显。",
            "Oil pressure warning flickers, worst at idle.",
        ),
        T("机油泵齿轮磨损，泵油压力不足。", "Oil pump gears worn; delivery pressure too low."),
        T(
            "更换机油泵，更换机油及机油滤清器，油压恢复正常。",
            "Replaced the oil pump, changed oil and filter; oil pressure back to normal.",
        ),
        (Extra("part", "1012010"), ENGINE_OIL),
    ),
    Scenario(
        "1112010",
        "P0301",
        "W1112-01",
        T("发动机怠速抖动，故障灯亮，加速无力。", "Rough idle, MIL on, weak acceleration."),
        T(
            "一缸喷油器雾化不良，回油量超标。",
            "Injector 1 sprays poorly; return flow out of limit.",
        ),
        T(
            "更换一缸喷油器并标定喷油量，故障排除。",
            "Replaced injector 1 and calibrated it; fault cleared.",
        ),
    ),
    Scenario(
        "1112010",
        "P0301",
        "W1112-01",
        T("冷车启动冒白烟，发动机抖动。", "White smoke at cold start, engine shakes."),
        T("一、二缸喷油器针阀卡滞。", "Needle valves of injectors 1 and 2 sticking."),
        T(
            "更换一、二缸喷油器，清除故障码并试车。",
            "Replaced injectors 1 and 2, cleared codes, road tested.",
        ),
        qty=2,
    ),
    Scenario(
        "1118010",
        "P0299",
        "W1118-01",
        T("加速无力，排气管冒黑烟，增压压力不足。", "Lack of power, black smoke, low boost."),
        T(
            "涡轮增压器轴承损坏，压气机叶轮刮壳。",
            "Turbo bearing failed; compressor wheel rubbing the housing.",
        ),
        T(
            "更换涡轮增压器，清洗进气管路，更换机油。",
            "Replaced the turbocharger, cleaned the intake ducts, changed oil.",
        ),
        (ENGINE_OIL,),
    ),
    Scenario(
        "1111010",
        "P0087",
        "W1111-01",
        T("冷车启动困难，行驶中偶发熄火。", "Hard cold start; stalls now and then while driving."),
        T(
            "高压油泵柱塞磨损，轨压建立不足。",
            "High-pressure pump plunger worn; rail pressure too low.",
        ),
        T(
            "更换高压油泵及燃油滤清器，排空气后试车正常。",
            "Replaced the high-pressure pump and fuel filter, bled the system; road test normal.",
        ),
        (Extra("part", "1105010"),),
    ),
    Scenario(
        "1119010",
        "P0299",
        "W1119-01",
        T(
            "高速行驶动力下降，中冷器附近有漏气声。",
            "Power drops at speed; hissing near the intercooler.",
        ),
        T("中冷器芯体开裂漏气。", "Intercooler core cracked, boost leaking."),
        T(
            "更换中冷器，紧固进气管卡箍。",
            "Replaced the intercooler, re-tightened the hose clamps.",
        ),
    ),
    Scenario(
        "1003020",
        "P0217",
        "W1003-02",
        T("发动机过热，膨胀水箱冒气泡。", "Engine overheats; bubbles in the expansion tank."),
        T(
            "气缸垫烧蚀，燃气窜入冷却系统。",
            "Head gasket blown; combustion gas in the cooling system.",
        ),
        T(
            "更换气缸垫及缸盖螺栓，平面度检测合格。",
            "Replaced the head gasket and bolts; head flatness checked.",
        ),
        (COOLANT, Extra("other", "缸盖螺栓 Cylinder head bolts", "180.00")),
    ),
    Scenario(
        "1205010",
        "P20EE",
        "W1205-01",
        T("仪表提示排放系统故障，车辆限扭。", "Emission warning on the dashboard; torque limited."),
        T(
            "SCR催化器载体破碎，转化效率低于限值。",
            "SCR catalyst substrate broken; conversion efficiency below limit.",
        ),
        T(
            "更换SCR后处理器，清除故障码，路试正常。",
            "Replaced the SCR unit, cleared codes; road test normal.",
        ),
    ),
    Scenario(
        "3612020",
        "P20EE",
        "W0000-01",
        T("排放故障灯亮，尿素消耗异常。", "Emission lamp on; abnormal AdBlue consumption."),
        T("下游氮氧传感器信号漂移。", "Downstream NOx sensor signal drifting."),
        T("更换氮氧传感器，执行SCR自学习。", "Replaced the NOx sensor and ran the SCR adaptation."),
    ),
    Scenario(
        "3701010",
        "P0620",
        "W3701-01",
        T("充电指示灯亮，蓄电池电压低。", "Charge warning light on; battery voltage low."),
        T("发电机调节器损坏，不发电。", "Alternator regulator failed; no charging."),
        T(
            "更换发电机，测试充电电压14.2V正常。",
            "Replaced the alternator; charging voltage 14.2 V.",
        ),
    ),
    Scenario(
        "3708010",
        "P0562",
        "W3708-01",
        T("打火时起动机不转，无法启动。", "Starter does not crank."),
        T("起动机电磁开关触点烧蚀。", "Starter solenoid contacts burnt."),
        T("更换起动机，连续启动测试正常。", "Replaced the starter; repeated start test passed."),
    ),
    Scenario(
        "3610010",
        "U0100",
        "W3610-01",
        T("发动机故障灯亮，诊断仪无法与ECU通讯。", "MIL on; the scan tool cannot reach the ECU."),
        T("ECU内部电源模块损坏。", "ECU internal power stage failed."),
        T("更换发动机控制单元并刷写数据。", "Replaced and flashed the engine control unit."),
        (Extra("other", DIAGNOSIS_FEE, "120.00"),),
    ),
    Scenario(
        "3603010",
        "U0121",
        "W0000-01",
        T("ABS故障灯常亮。", "ABS warning light stays on."),
        T("ABS控制单元内部故障。", "ABS control unit internal fault."),
        T(
            "更换ABS控制单元并匹配编码，路试制动正常。",
            "Replaced and coded the ABS unit; brake test normal.",
        ),
    ),
    Scenario(
        "3776010",
        "U0140",
        "W0000-01",
        T("车灯、雨刮间歇性失灵。", "Lights and wipers fail intermittently."),
        T("车身控制模块进水腐蚀。", "Water ingress corroded the body control module."),
        T(
            "更换车身控制模块并编程，密封线束插头。",
            "Replaced and programmed the BCM, sealed the connector.",
        ),
    ),
    Scenario(
        "3801010",
        "B1342",
        "W3801-01",
        T("组合仪表间歇性黑屏。", "Instrument cluster goes blank intermittently."),
        T("仪表电路板虚焊。", "Cold solder joint on the cluster board."),
        T("更换组合仪表，写入里程。", "Replaced the instrument cluster and wrote the odometer."),
    ),
    Scenario(
        "3724010",
        "U0100",
        "W3724-01",
        T("行驶中发动机间歇性熄火，报U0100。", "Engine stalls intermittently, U0100 stored."),
        T("发动机线束与支架摩擦破损短路。", "Engine harness chafed on a bracket and shorted."),
        T(
            "更换发动机线束并加装防磨护套。",
            "Replaced the engine harness and added a chafe sleeve.",
        ),
    ),
    Scenario(
        "3611010",
        "P0335",
        "W0000-01",
        T("行驶中偶发熄火，熄火后再启动困难。", "Occasional stalling, hard restart afterwards."),
        T("曲轴位置传感器信号间断。", "Crankshaft position sensor signal drops out."),
        T(
            "更换曲轴位置传感器，试车正常。",
            "Replaced the crankshaft position sensor; road test normal.",
        ),
    ),
    Scenario(
        "5205010",
        "B2205",
        "W0000-01",
        T("雨刮不工作。", "Wipers do not work."),
        T("雨刮电机碳刷磨损，电机不转。", "Wiper motor brushes worn; the motor does not turn."),
        T("更换雨刮电机。", "Replaced the wiper motor."),
    ),
    Scenario(
        "6105010",
        "B1001",
        "W0000-01",
        T("驾驶员侧车门无法上锁。", "Driver door will not lock."),
        T("门锁执行器卡滞。", "Door lock actuator sticking."),
        T("更换车门锁，遥控功能测试正常。", "Replaced the door lock; remote locking works."),
    ),
    Scenario(
        "8202010",
        "B1600",
        "W0000-01",
        T("左侧外后视镜无法电动调节。", "Left mirror cannot be adjusted."),
        T("后视镜调节电机损坏。", "Mirror adjustment motor failed."),
        T("更换外后视镜总成。", "Replaced the exterior mirror."),
    ),
    Scenario(
        "3103010",
        "C0035",
        "W3103-01",
        T("左前轮异响，ABS灯亮。", "Noise from the left front wheel, ABS light on."),
        T("轮毂轴承损坏，信号齿圈偏摆。", "Hub bearing failed; tone ring runout."),
        T(
            "更换左前轮毂轴承，清除ABS故障码。",
            "Replaced the left front hub bearing, cleared ABS codes.",
        ),
    ),
    Scenario(
        "3401010",
        "C0455",
        "W3401-01",
        T("转向沉重，左右打方向有异响。", "Heavy steering with noise when turning."),
        T("转向机内部阀体磨损。", "Steering gear valve body worn."),
        T("更换转向机总成并做四轮定位。", "Replaced the steering gear and aligned the wheels."),
        (Extra("other", "四轮定位 Wheel alignment", "150.00"),),
    ),
    Scenario(
        "1601020",
        "P0730",
        "W1601-01",
        T("离合器打滑，满载爬坡无力。", "Clutch slips; weak uphill when loaded."),
        T("压盘膜片弹簧疲劳断裂。", "Pressure plate diaphragm spring cracked."),
        T("更换离合器压盘及从动盘。", "Replaced the clutch pressure plate and disc."),
        (Extra("part", "1601010"),),
    ),
    Scenario(
        "1703010",
        "P0730",
        "W1703-01",
        T("挂挡困难，偶尔跳挡。", "Hard to shift; jumps out of gear now and then."),
        T("换挡拉索球头磨损。", "Shift cable ball joint worn."),
        T("更换换挡操纵机构并调整。", "Replaced and adjusted the gear shift mechanism."),
    ),
    Scenario(
        "1701010",
        "P0715",
        "W1700-02",
        T("变速箱异响，四挡明显。", "Gearbox whine, worst in fourth gear."),
        T(
            "输入轴轴承位磨损，输入轴转速信号异常。",
            "Input shaft bearing seat worn; speed signal erratic.",
        ),
        T("变速箱解体大修，更换输入轴。", "Overhauled the gearbox and replaced the input shaft."),
        (GEAR_OIL,),
    ),
)

MAJOR_ASSEMBLY_SCENARIOS = (
    Scenario(
        "1000010",
        "P0524",
        "W1000-01",
        T(
            "发动机异响，机油压力报警，动力明显下降。",
            "Engine knocking, oil pressure warning, severe power loss.",
        ),
        T(
            "拆检发现曲轴主轴瓦烧蚀，缸体主轴承座损伤，不具备修复价值。",
            "Teardown: main bearings seized and block saddles damaged beyond repair.",
        ),
        T(
            "更换发动机总成，加注机油冷却液，路试正常。",
            "Replaced the engine assembly, filled oil and coolant; road test normal.",
        ),
        (ENGINE_OIL, COOLANT),
    ),
    Scenario(
        "1000010",
        "P0217",
        "W1000-01",
        T("发动机过热后无法启动。", "Engine will not start after overheating."),
        T("拆检发现缸体水套开裂，二缸拉缸。", "Teardown: cracked water jacket, cylinder 2 scored."),
        T("更换发动机总成。", "Replaced the engine assembly."),
        (ENGINE_OIL, COOLANT),
    ),
    Scenario(
        "1700010",
        "P0730",
        "W1700-01",
        T("变速箱跳挡，运行异响严重。", "Gearbox jumps out of gear with loud noise."),
        T(
            "拆检发现二轴齿轮断齿，壳体开裂。",
            "Teardown: mainshaft gear teeth broken, housing cracked.",
        ),
        T("更换变速箱总成，加注齿轮油。", "Replaced the gearbox assembly, filled gear oil."),
        (GEAR_OIL,),
    ),
    Scenario(
        "1700010",
        "P0868",
        "W1700-01",
        T("变速箱油压报警，无法升挡。", "Transmission pressure warning; will not upshift."),
        T("拆检发现油泵及同步器严重磨损。", "Teardown: oil pump and synchronisers badly worn."),
        T("更换变速箱总成。", "Replaced the gearbox assembly."),
        (GEAR_OIL,),
    ),
)

# Parts a station buys locally when the parts centre cannot deliver (外购), by scenario part.
OUTSOURCED_PARTS = ("3801010", "1119010", "1301010", "3103010", "8202010", "3776010", "5205010")
# Parts moved urgently to a vehicle off the road (紧急调件).
EMERGENCY_PARTS = (
    "1118010",
    "1111010",
    "3701010",
    "3708010",
    "3610010",
    "3401010",
    "1307010",
    "3603010",
    "1112010",
)

ROADS = (
    "G15沈海高速",
    "G4京港澳高速",
    "G60沪昆高速",
    "G1京哈高速",
    "G5京昆高速",
    "G70福银高速",
    "G50沪渝高速",
    "G42沪蓉高速",
    "S32申嘉湖高速",
    "G2京沪高速",
)
ROADSIDE_STORIES = (
    (
        T(
            "车辆在{road}{km}公里处无法启动，客户来电请求救援。",
            "Vehicle would not start on {road} at km {km}; customer called for help.",
        ),
        T("起动机电磁开关卡滞。", "Starter solenoid stuck."),
        T(
            "现场拆修起动机电磁开关，车辆恢复启动。",
            "Freed the starter solenoid on site; vehicle starts again.",
        ),
        "P0562",
    ),
    (
        T("车辆在{road}{km}公里处行驶中熄火。", "Engine stalled on {road} at km {km}."),
        T("燃油滤清器堵塞，供油不足。", "Fuel filter clogged; fuel starvation."),
        T(
            "现场更换燃油滤清器并排空气，车辆自行驶回。",
            "Replaced the fuel filter on site and bled the system; vehicle drove home.",
        ),
        "P0087",
    ),
    (
        T(
            "车辆在{road}{km}公里处水温报警停车。",
            "Vehicle stopped on {road} at km {km} with an overheating warning.",
        ),
        T("散热器水管卡箍松脱漏水。", "Radiator hose clamp came loose."),
        T(
            "现场紧固卡箍、补充冷却液，护送进站检修。",
            "Re-fitted the clamp, topped up coolant, escorted to the station.",
        ),
        "P0217",
    ),
    (
        T(
            "车辆在{road}{km}公里处仪表全黑，无法行驶。",
            "Dashboard went dark on {road} at km {km}; vehicle immobilised.",
        ),
        T("蓄电池正极桩头松动烧蚀。", "Battery positive terminal loose and burnt."),
        T(
            "现场处理桩头并紧固，车辆恢复正常。",
            "Cleaned and tightened the terminal on site; vehicle back to normal.",
        ),
        "B1318",
    ),
    (
        T(
            "车辆在{road}{km}公里处制动报警，客户不敢继续行驶。",
            "Brake warning on {road} at km {km}; driver stopped.",
        ),
        T("轮速传感器插头松脱。", "Wheel speed sensor connector loose."),
        T(
            "现场重新插接并固定线束，清除故障码。",
            "Reconnected and secured the harness on site, cleared codes.",
        ),
        "C0035",
    ),
)

LABOR_OVER_REASONS = (
    T("螺栓锈死，需加热后拆卸", "Seized bolts had to be heated to come off"),
    T("车辆加装上装，需先拆除货箱附件", "Body equipment had to be removed first"),
    T("间歇性故障排查耗时较长", "Intermittent fault took long to trace"),
    T("冬季低温，作业前需预热", "Cold weather: pre-heating before work"),
    T("相关部件拆装顺序复杂，超出定额", "Access requires removing adjacent parts"),
)
GOODWILL_REASONS = {  # by why the claim is outside coverage: time or km
    "time": (
        T(
            "车队大客户，车辆在本站定期保养，超出保修期{months}个月，申请商誉支持。",
            "Fleet customer with a full service history here; {months} months out of warranty, "
            "goodwill requested.",
        ),
        T(
            "超出保修期{months}个月，故障系零部件早期失效，申请商誉。",
            "{months} months out of warranty; early part failure, goodwill requested.",
        ),
    ),
    "km": (
        T(
            "里程超出保修限值 {limit} 公里，客户首次反映故障时仍在保修范围内，申请商誉支持。",
            "Over the {limit} km limit, but the fault was first reported inside it; goodwill "
            "requested.",
        ),
    ),
}
RETURN_REASONS = {
    "photos": T(
        "请补充故障件照片及仪表故障码截图后重新提交。",
        "Please attach photos of the failed part and the fault-code screen.",
    ),
    "cause": T(
        "故障原因描述不清，请补充检测数据。", "The cause is unclear: add the measured values."
    ),
    "labor": T(
        "工时超出定额，请按标准工时申报或补充说明。",
        "Hours above the flat rate: claim the standard hours or explain.",
    ),
    "receipt": T(
        "请上传过路费发票及现场照片。", "Please upload the toll receipts and a photo taken on site."
    ),
    "teardown": T(
        "请补充拆检报告及损坏部位照片。", "Please add the teardown report and photos of the damage."
    ),
    "towing": T(
        "拖车费无发票，请补充发票或删除该项，并上传过路费发票。",
        "The towing fee has no invoice: add it or remove the line, and upload the toll receipt.",
    ),
    "vor": T(
        "请注明车辆停驶地点及预计修复时间。",
        "Please state where the vehicle stands and when it should be back on the road.",
    ),
}
CAUSE_ADDENDA = (
    T(
        "检测数据：冷态缸压 2.1 MPa，热态 1.6 MPa。",
        "Measured: compression 2.1 MPa cold, 1.6 MPa hot.",
    ),
    T(
        "检测数据：故障件电阻 0.4 Ω（标准 2.5–3.0 Ω）。",
        "Measured: 0.4 Ω on the failed part (spec 2.5–3.0 Ω).",
    ),
    T("检测数据：泄漏测试 15 分钟压降 0.3 bar。", "Measured: 0.3 bar pressure drop in 15 minutes."),
)
REJECT_REASONS = {
    "repair": (
        T(
            "经检查，故障系车辆长期超载使用所致，不属于质量索赔范围。",
            "Damage caused by chronic overloading (misuse).",
        ),
        T(
            "加装大功率电器导致线束过载，不属于保修范围。",
            "Aftermarket equipment overloaded the circuit: not covered.",
        ),
        T("旧件检测未发现故障，索赔不成立。", "No fault found on the part."),
    ),
    "goodwill": (
        T(
            "车辆已超出保修期且无本站保养记录，不予商誉支持。",
            "Out of warranty without service history: goodwill declined.",
        ),
    ),
    "duplicate": (
        T("与索赔单 {other} 重复：同一VIN同一主因件30天内已索赔。", "Duplicate of claim {other}."),
    ),
    "appraisal": (
        T(
            "拆检报告显示仅活塞环磨损，可维修，不同意更换总成。",
            "Teardown shows worn rings only: repair it, no assembly.",
        ),
        T("故障系缺机油运行所致，属使用不当。", "Ran without oil: misuse."),
    ),
    "outsourced": (
        T(
            "配件中心已有库存，请通过紧急调件申请。",
            "The parts centre has stock: file an emergency part request.",
        ),
    ),
    "emergency": (
        T(
            "车辆未停驶，请按常规订货。",
            "The vehicle is not off the road: order through the regular channel.",
        ),
    ),
    "roadside": (
        T(
            "车辆因燃油耗尽无法行驶，不属于保修救援。",
            "The vehicle ran out of fuel: not a warranty breakdown.",
        ),
    ),
}
COMMENT_THREADS = (
    (
        "auditor",
        T(
            "请确认旧件是否已挂标签并随批次返回。",
            "Please confirm the old part is tagged for return.",
        ),
        "station",
        T("已挂旧件标签，随本周返回批次寄出。", "Tagged; it ships with this week's return batch."),
    ),
    (
        "auditor",
        T("该车此前是否有相关维修记录？", "Any earlier repairs on this system?"),
        "station",
        T("无，首次出现该故障。", "No, this is the first occurrence."),
    ),
    (
        "station",
        T("客户车辆停驶，请尽快审核，谢谢！", "The vehicle is off the road, please review soon."),
        "auditor",
        T("已收到，今日处理。", "Received, handling it today."),
    ),
    (
        "auditor",
        T(
            "请提供该车近三个月的保养记录。",
            "Please send the service records of the last 3 months.",
        ),
        "station",
        T("保养记录扫描件已邮件发送。", "The scanned service records went out by e-mail."),
    ),
)
CARRIERS = (
    ("顺丰速运 SF Express", "SF"),
    ("德邦物流 Deppon", "DPK"),
    ("京东物流 JD Logistics", "JDV"),
    ("中通快运 ZTO Freight", "ZTO"),
)
LOCAL_VENDORS = (
    "本地汽配城 local parts market",
    "区域配件经销商 regional parts dealer",
    "原厂授权配件店 authorised parts shop",
)

MA_OUTCOMES = {
    "ma-approve": APPROVE,
    "ma-partial": PARTIAL,
    "ma-review": REVIEW,
    "ma-return": RETURN,
    "ma-resubmitted": APPROVE,
}

# What the demo files, by story: (kind, flavour, outcome, returns, how many).
# kind: repair, duplicate (a first claim, then one for the same VIN and part within 30 days),
# appraisal (+ major assembly when flavour starts with "ma-"), roadside, outsourced (+ the repair
# that draws on it when flavour is "chain"), emergency (flavour: fulfilment and shipment state),
# break_in.
CLAIM_MIX = (
    ("repair", "cheap", AUTO, 0, 92),
    ("repair", "cheap", DRAFT, 0, 8),
    ("repair", "costly", DRAFT, 0, 4),
    ("repair", "costly", REVIEW, 0, 24),
    ("repair", "costly", APPROVE, 0, 24),
    ("repair", "costly", PARTIAL, 0, 20),
    ("repair", "costly", REJECT, 0, 8),
    ("repair", "costly", RETURN, 0, 7),
    ("repair", "costly", APPROVE, 1, 5),
    ("repair", "costly", PARTIAL, 1, 4),
    ("repair", "costly", REVIEW, 1, 4),
    ("repair", "costly", RETURN, 1, 2),
    ("repair", "costly", APPROVE, 2, 3),
    ("repair", "costly", REJECT, 1, 2),
    ("repair", "labor", REVIEW, 0, 7),
    ("repair", "labor", PARTIAL, 0, 8),
    ("repair", "labor", APPROVE, 0, 3),
    ("repair", "labor", AUTO, 1, 5),
    ("repair", "labor", APPROVE, 1, 2),
    ("repair", "goodwill", REVIEW, 0, 6),
    ("repair", "goodwill", APPROVE, 0, 4),
    ("repair", "goodwill", PARTIAL, 0, 5),
    ("repair", "goodwill", REJECT, 0, 3),
    ("duplicate", "", REVIEW, 0, 4),
    ("duplicate", "", REJECT, 0, 4),
    ("duplicate", "", PARTIAL, 0, 3),
    ("appraisal", "ma-approve", APPROVE, 0, 5),
    ("appraisal", "ma-partial", APPROVE, 0, 4),
    ("appraisal", "ma-review", APPROVE, 0, 4),
    ("appraisal", "ma-return", APPROVE, 0, 1),
    ("appraisal", "ma-resubmitted", APPROVE, 0, 1),
    ("appraisal", "valid", APPROVE, 0, 5),
    ("appraisal", "", REJECT, 0, 4),
    ("appraisal", "", REVIEW, 0, 4),
    ("appraisal", "", DRAFT, 0, 1),
    ("appraisal", "", RETURN, 0, 2),
    ("roadside", "cheap", AUTO, 0, 16),
    ("roadside", "cheap", DRAFT, 0, 2),
    ("roadside", "costly", REVIEW, 0, 4),
    ("roadside", "costly", APPROVE, 0, 3),
    ("roadside", "costly", PARTIAL, 0, 4),
    ("roadside", "costly", REJECT, 0, 1),
    ("roadside", "costly", RETURN, 0, 2),
    ("roadside", "cheap", AUTO, 1, 2),
    ("outsourced", "chain", APPROVE, 0, 6),
    ("outsourced", "chain", PARTIAL, 0, 3),
    ("outsourced", "", APPROVE, 0, 2),
    ("outsourced", "", REVIEW, 0, 3),
    ("outsourced", "", REJECT, 0, 2),
    ("outsourced", "", DRAFT, 0, 1),
    ("emergency", "regular-received", APPROVE, 0, 5),
    ("emergency", "regular-shipped", APPROVE, 0, 2),
    ("emergency", "regular-waiting", APPROVE, 0, 1),
    ("emergency", "station-received", APPROVE, 0, 3),
    ("emergency", "supplier-received", APPROVE, 0, 2),
    ("emergency", "supplier-shipped", APPROVE, 0, 1),
    ("emergency", "station-waiting", APPROVE, 0, 1),
    ("emergency", "regular", REVIEW, 0, 4),
    ("emergency", "regular", REJECT, 0, 2),
    ("emergency", "regular", DRAFT, 0, 1),
    ("emergency", "regular", RETURN, 0, 1),
    ("break_in", "", AUTO, 0, 19),
    ("break_in", "", DRAFT, 0, 3),
)


# The two demo station logins see every final state and every type; the other stations file
# half as many claims each.
FIRST_STATIONS_WEIGHT = 2


# ---------------------------------------------------------------------------------------------
# The simulated clock
# ---------------------------------------------------------------------------------------------

NOTIFICATION_READ_AFTER = timedelta(hours=3)  # older notifications have been read
NOTIFICATIONS_UNREAD_DAYS = 7


@dataclass(frozen=True)
class _Stamps:
    """A model's timestamp attributes: those with a default or an update default."""

    all: tuple[str, ...]
    defaulted: frozenset[str]
    on_update: frozenset[str]


class SimulatedClock:
    """While active, rows flushed by the session carry `now` instead of the real time.

    The operations stamp what they do with `utcnow()` (as a column default or by hand). Before
    each flush, every timestamp of a new or changed row that holds the real time (not before
    `real_start`), or that its column's default or update default would fill, is set to `now`,
    the moment of the story's event. A timestamp the operation left empty stays empty.
    """

    def __init__(self, today: date) -> None:
        self.real_start = utcnow()
        self.now = self.real_start
        self.read_before = local_moment(today - timedelta(days=NOTIFICATIONS_UNREAD_DAYS), 0)
        self._stamps: dict[type, _Stamps] = {}

    def stamps(self, cls: type) -> _Stamps:
        if cls not in self._stamps:
            names, defaulted, on_update = [], set(), set()
            for prop in sa.inspect(cls).column_attrs:
                column = prop.columns[0]
                if isinstance(column.type, UTCDateTime):
                    names.append(prop.key)
                    if column.default is not None:
                        defaulted.add(prop.key)
                    if column.onupdate is not None:
                        on_update.add(prop.key)
            self._stamps[cls] = _Stamps(tuple(names), frozenset(defaulted), frozenset(on_update))
        return self._stamps[cls]

    def _restamp(self, obj, fill: frozenset[str]) -> None:
        for name in self.stamps(type(obj)).all:
            value = getattr(obj, name)
            # Moments written at the real time move to the story's; a moment still ahead (a
            # settlement run's cutoff: the end of its month) is not one of them.
            written_now = value is not None and self.real_start <= value <= utcnow()
            if (value is None and name in fill) or written_now:
                setattr(obj, name, self.now)

    def before_flush(self, session, _context, _instances) -> None:
        for obj in session.new:
            self._restamp(obj, self.stamps(type(obj)).defaulted)
            if (
                isinstance(obj, Notification)
                and (obj.link or "").startswith("/claims/")
                and self.now < self.read_before
            ):
                obj.read_at = self.now + NOTIFICATION_READ_AFTER
        for obj in session.dirty:
            if not session.is_modified(obj, include_collections=False):
                continue  # no UPDATE of its row: nothing to stamp
            stamps = self.stamps(type(obj))
            self._restamp(obj, stamps.on_update)
            for name in stamps.on_update:  # even when it holds `now` already: else the update
                setattr(obj, name, self.now)  # default would stamp the real time
                flag_modified(obj, name)

    def settle_bulk_updates(self) -> None:
        """Notifications marked read in bulk (an UPDATE statement, no flush) read now, too."""
        db.session.execute(
            sa.update(Notification)
            .where(Notification.read_at >= self.real_start)
            .values(read_at=self.now)
            .execution_options(synchronize_session=False)
        )

    @contextmanager
    def active(self) -> Iterator[SimulatedClock]:
        session = db.session()
        sa.event.listen(session, "before_flush", self.before_flush)
        try:
            yield self
        finally:
            sa.event.remove(session, "before_flush", self.before_flush)


@contextmanager
def quiet_notifications() -> Iterator[None]:
    """The demo's hundreds of notifications are not e-mailed, nor logged one by one."""
    logger = logging.getLogger("portal.notifications.operations")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def local_moment(day: date, minutes: int) -> datetime:
    """`minutes` after midnight of `day` in the portal's time zone, as an aware UTC datetime."""
    return (
        datetime.combine(day, time.min, tzinfo=LOCAL_TZ) + timedelta(minutes=minutes)
    ).astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Scripts: one claim's events, run by `Run` in the order of their moments
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Planning: intents, their days, vehicles and repairs
# ---------------------------------------------------------------------------------------------


@dataclass
class Intent:
    kind: str
    flavour: str
    outcome: str
    returns: int
    station: Station | None = None
    # (day offset, claim index within the story, action), in order
    events: list[tuple[int, int, str]] = field(default_factory=list)
    repair_offsets: list[int] = field(default_factory=list)  # per claim of the story
    start: date | None = None
    then: str = ""  # the outcome of the story's second claim (duplicate, major assembly, repair)

    @property
    def length(self) -> int:
        return self.events[-1][0] if self.events else 0

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    def repair_day(self, index: int = 0) -> date:
        return self.day(self.repair_offsets[index])

    def submit_days(self) -> list[date]:
        return [self.day(o) for o, _, a in self.events if a in ("submit", "resubmit")]


@dataclass
class VehicleState:
    """What the planner has booked for a vehicle so far."""

    vehicle: Vehicle
    odometer: int
    busy_until: date
    repairs: list[tuple[int, date]] = field(default_factory=list)  # (causal part id, day)
    broken_in: bool = False


def lifecycle(
    rng: random.Random,
    outcome: str,
    returns: int,
    *,
    urgent: bool = False,
    index: int = 0,
    comments: bool = True,
) -> list[tuple[int, int, str]]:
    """The day offsets of one claim's events, from its repair day (offset 0)."""
    events = []
    t = 0 if urgent else rng.randint(0, 2)
    events.append((t, index, "create"))
    if outcome == DRAFT:
        return events
    t += 0 if urgent else rng.randint(0, 2)
    events.append((t, index, "submit"))
    for _ in range(returns):
        t += rng.randint(1, 5)
        events.append((t, index, "return"))
        t += rng.randint(1, 6)
        events.append((t, index, "resubmit"))
    talk = comments and not urgent and rng.random() < 0.3
    if outcome in (APPROVE, PARTIAL, REJECT):
        gap = rng.randint(0, 1) if urgent else rng.randint(1, 8)
        if talk:
            events.append((t + rng.randint(0, gap), index, "comment"))
            events.append((t + gap, index, "comment"))
        t += gap
        events.append((t, index, "decide"))
    elif outcome == RETURN:
        t += rng.randint(1, 5)
        events.append((t, index, "return"))
    elif outcome == REVIEW and talk:
        t += rng.randint(0, 3)
        events.append((t, index, "comment"))
        t += rng.randint(0, 2)
        events.append((t, index, "comment"))
    return events


class Planner:
    """Turns the intents into scripts: days, stations, vehicles, repairs and decisions."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.rng = demo.rng
        self.today = demo.today
        self.auditor = demo.users["auditor"]
        self.parts = {part.number: part for part in demo.parts}
        self.operations = {op.code: op for op in demo.labor_operations}
        self.states = [
            VehicleState(v, v.odometer_km, v.sale_date + timedelta(days=1)) for v in demo.vehicles
        ]
        self.by_station: dict[int, list[VehicleState]] = {}
        for state in self.states:
            self.by_station.setdefault(state.vehicle.selling_station.id, []).append(state)
        self.threshold = ClaimSettings.current().auto_approve_threshold
        self.events: list[Event] = []
        self.counter = 0

    # -- intents ---------------------------------------------------------------------------

    def intents(self) -> list[Intent]:
        rng = self.rng
        intents = [
            Intent(kind, flavour, outcome, returns)
            for kind, flavour, outcome, returns, count in CLAIM_MIX
            if kind != "break_in"
            for _ in range(count)
        ]
        rng.shuffle(intents)
        self._assign_stations(intents)
        for intent in intents:
            self._shape(intent)
        return intents

    def _assign_stations(self, intents: list[Intent]) -> None:
        """The two demo station logins first get one story of every final state and type."""
        stations = self.demo.stations
        first = stations[:2]
        wants = {s.id: {*FINAL_STATUS, *(k for k, *_ in CLAIM_MIX), "resubmitted"} for s in first}
        weights = [FIRST_STATIONS_WEIGHT if s in first else 1 for s in stations]
        for intent in intents:
            keys = {intent.outcome, intent.kind} | ({"resubmitted"} if intent.returns else set())
            for station in first:
                if keys & wants[station.id]:
                    wants[station.id] -= keys
                    intent.station = station
                    break
            else:
                intent.station = self.rng.choices(stations, weights=weights)[0]

    def _shape(self, intent: Intent) -> None:
        """The days of the intent's events, and its start within the last half year."""
        rng, kind, outcome = self.rng, intent.kind, intent.outcome
        recent = RECENT_DAYS.get(outcome)
        if kind == "duplicate":  # then: how the first claim ended (auto or by the auditor)
            intent.then = AUTO if rng.random() < 0.6 else APPROVE
            first = lifecycle(rng, intent.then, 0, comments=False)
            gap = rng.randint(5, DUPLICATE_WINDOW_DAYS - 8)
            second = [(o + gap, 1, a) for o, _, a in lifecycle(rng, outcome, 0, index=1)]
            intent.events, intent.repair_offsets = _merge(first, second), [0, gap]
        elif kind == "appraisal" and intent.flavour.startswith("ma-"):
            appraisal = lifecycle(rng, APPROVE, 0, comments=False)
            intent.then = MA_OUTCOMES[intent.flavour]
            returns = 1 if intent.flavour == "ma-resubmitted" else 0
            gap = appraisal[-1][0] + rng.randint(1, 6)
            ma = [(o + gap, 1, a) for o, _, a in lifecycle(rng, intent.then, returns, index=1)]
            intent.events, intent.repair_offsets = appraisal + ma, [0, gap]
            recent = RECENT_DAYS.get(intent.then)
        elif kind == "outsourced" and intent.flavour == "chain":
            request = lifecycle(rng, outcome, 0, comments=False)
            gap = request[-1][0] + rng.randint(2, 15)
            intent.then = rng.choice((AUTO, AUTO, APPROVE, PARTIAL))
            repair = [(o + gap, 1, a) for o, _, a in lifecycle(rng, intent.then, 0, index=1)]
            intent.events, intent.repair_offsets = request + repair, [0, gap]
        elif kind == "emergency":
            events = lifecycle(rng, outcome, 0, urgent=True)
            state = intent.flavour.split("-")[-1]
            if state in ("shipped", "received"):
                t = events[-1][0] + rng.randint(0, 1)
                events.append((t, 0, "ship"))
                if state == "received":
                    events.append((t + rng.randint(1, 3), 0, "receive"))
                else:
                    recent = 4
            elif state == "waiting":
                recent = 2
            intent.events, intent.repair_offsets = events, [0]
        else:
            intent.events = lifecycle(rng, outcome, intent.returns)
            intent.repair_offsets = [0]
            if kind == "appraisal" and intent.flavour == "valid":
                recent = APPRAISAL_VALID_DAYS - 8
            if kind == "outsourced" and outcome == APPROVE:
                recent = 40
        last = self.today - timedelta(days=1)
        low = self.today - timedelta(days=DAYS_BACK)
        high = last - timedelta(days=intent.length)
        if recent is not None:
            low = max(low, last - timedelta(days=recent + intent.length - 1))
        low = min(low, high)
        intent.start = low + timedelta(days=rng.randint(0, (high - low).days))

    # -- vehicles --------------------------------------------------------------------------

    def candidates(self, intent: Intent, first_day: date) -> list[VehicleState]:
        """Free vehicles sold before `first_day`, the station's own first most of the time."""
        rng = self.rng
        own = list(self.by_station.get(intent.station.id, []))
        rng.shuffle(own)
        everyone = list(self.states)
        rng.shuffle(everyone)
        ordered = own + everyone if rng.random() < 0.7 else everyone
        seen, result = set(), []
        for state in ordered:
            vid = id(state)
            if vid in seen:
                continue
            seen.add(vid)
            if (
                state.busy_until < first_day
                and state.vehicle.sale_date + timedelta(days=3) <= first_day
            ):
                result.append(state)
        return result

    def book(
        self,
        state: VehicleState,
        intent: Intent,
        odometers: list[int],
        causal_parts: list[Part | None],
    ) -> None:
        state.busy_until = max(intent.submit_days() or [intent.day(intent.length)])
        state.odometer = max(odometers)
        for index, part in enumerate(causal_parts):
            if part is not None:
                state.repairs.append((part.id, intent.repair_day(index)))

    def recently_repaired(self, state: VehicleState, part: Part, day: date) -> bool:
        window = timedelta(days=DUPLICATE_WINDOW_DAYS + 1)
        return any(pid == part.id and abs(day - d) <= window for pid, d in state.repairs)

    def part_for(self, number: str, vehicle: Vehicle) -> Part | None:
        suffix = vehicle.model.code.rsplit("-", 1)[-1]
        return self.parts.get(f"{number}-{suffix}") or self.parts.get(number)

    def covered(self, vehicle: Vehicle, part: Part, day: date, odometer: int) -> bool:
        policy = vehicle.model.policy_for(part.group)
        return coverage_of(policy, vehicle.sale_date, day, odometer).in_coverage

    def odometer_step(self) -> int:
        return self.rng.randint(120, 2600)

    # -- amounts ---------------------------------------------------------------------------

    def total(self, station: Station, payload: dict) -> Decimal:
        """The claim's total as `pricing` will compute it (parts priced on the repair day)."""
        day = date.fromisoformat(payload["repair_date"])
        parts = labor = other = ZERO
        for line in payload.get("lines", []):
            kind = line["kind"]
            if kind == "part":
                price = self.parts[line["part_number"]].price_on(day)
                parts += round_money(Decimal(line["qty"]) * price)
            elif kind == "labor":
                labor += round_money(Decimal(line["hours"]) * station.labor_rate)
            elif kind == "trip":
                other += round_money(Decimal(line["qty"]) * station.km_rate)
            else:
                other += Decimal(line["amount"])
        return parts + round_money(parts * station.parts_handling_rate) + labor + other

    def auto_approvable(self, station: Station, payload: dict) -> bool:
        return self.total(station, payload) < self.threshold

    # -- helpers for texts and files -------------------------------------------------------

    def text(self, text: Text) -> str:
        """Chinese, and in some claims the English after it (stations write both ways)."""
        return f"{text.zh} {text.en}" if self.rng.random() < 0.35 else text.zh

    def photos(
        self, count: int, names: tuple[str, ...] = ("故障件照片", "仪表故障码", "里程表")
    ) -> Files:
        return [(f"{names[i % len(names)]}{i + 1}.png", png_photo(self.rng)) for i in range(count)]

    def receipt(self, name: str, lines: list[str]) -> tuple[str, bytes]:
        return name, pdf_document(lines)

    def user(self, station: Station) -> User:
        return self.demo.org_users[station.code]

    def key(self) -> str:
        self.counter += 1
        return f"c{self.counter}"

    # -- scripts ---------------------------------------------------------------------------

    def schedule(self, intent: Intent, scripts: list[Script]) -> None:
        for offset, index, action in intent.events:
            self.events.append(Event(intent.day(offset), scripts[index], action))

    def plan(self) -> list[Event]:
        for intent in self.break_in_intents():
            self.plan_break_in(intent)
        intents = self.intents()
        intents.sort(key=lambda i: (i.start, i.length))
        for intent in intents:
            builder = getattr(self, "plan_" + intent.kind)
            if not builder(intent):
                raise DemoError(f"no vehicle fits the {intent.kind} story {intent}")
        return self.events

    def break_in_intents(self) -> list[Intent]:
        intents = [
            Intent("break_in", flavour, outcome, returns)
            for kind, flavour, outcome, returns, count in CLAIM_MIX
            if kind == "break_in"
            for _ in range(count)
        ]
        self._assign_stations(intents)
        return intents

    # break-in maintenance (走保): the vehicle first, then a day inside its window
    def plan_break_in(self, intent: Intent) -> bool:
        rng, last = self.rng, self.today - timedelta(days=1)
        events = lifecycle(rng, intent.outcome, 0, comments=False)
        length = events[-1][0]
        for state in self.candidates_for_break_in(intent.station):
            model, vehicle = state.vehicle.model, state.vehicle
            first = vehicle.sale_date + timedelta(days=1)
            latest = min(
                vehicle.sale_date + timedelta(days=model.break_in_days),
                last - timedelta(days=length),
            )
            if intent.outcome == DRAFT:
                first = max(first, last - timedelta(days=13 + length))
            odometer = max(state.odometer, model.break_in_min_km) + rng.randint(0, 150)
            if latest < first or odometer > model.break_in_max_km:
                continue
            intent.events, intent.repair_offsets = events, [0]
            intent.start = first + timedelta(days=rng.randint(0, (latest - first).days))
            payload = {
                "type": "break_in",
                "vin": vehicle.vin,
                "odometer_km": odometer,
                "repair_date": intent.start.isoformat(),
                "correction": self.text(
                    T(
                        "首次走合保养：更换机油及机油滤清器，检查底盘紧固件及各油液液位。",
                        "First break-in service: oil and filter changed, chassis bolts "
                        "torqued, fluids checked.",
                    )
                ),
            }
            files = [self.photos(1, ("走保卡",))] if rng.random() < 0.4 else [[]]
            script = Script(
                self.key(),
                self.user(intent.station),
                [payload],
                files,
                expects=[ClaimStatus.APPROVED],
            )
            self.schedule(intent, [script])
            state.broken_in = True
            self.book(state, intent, [odometer], [None])
            return True
        raise DemoError("no vehicle is left inside its break-in window")

    def candidates_for_break_in(self, station: Station) -> list[VehicleState]:
        states = [
            s
            for s in self.states
            if not s.broken_in and s.busy_until <= s.vehicle.sale_date + timedelta(days=1)
        ]
        own = [s for s in states if s.vehicle.selling_station.id == station.id]
        others = [s for s in states if s.vehicle.selling_station.id != station.id]
        self.rng.shuffle(own)
        self.rng.shuffle(others)
        return own + others

    # warranty repairs (保修单)
    def plan_repair(self, intent: Intent) -> bool:
        day, step = intent.repair_day(), self.odometer_step()
        goodwill = intent.flavour == "goodwill"
        for state in self.candidates(intent, day):
            for scenario, part in self.repairs_for(state, day, REPAIR_SCENARIOS):
                odometer = state.odometer + step
                if self.covered(state.vehicle, part, day, odometer) == goodwill:
                    continue
                script = self.repair_script(intent, state.vehicle, scenario, part, odometer)
                if script is not None:
                    self.schedule(intent, [script])
                    self.book(state, intent, [odometer], [part])
                    return True
        return False

    def repairs_for(self, state: VehicleState, day: date, scenarios) -> Iterator[tuple]:
        """The scenarios (with the vehicle's variant of the part) not repaired lately."""
        scenarios = list(scenarios)
        self.rng.shuffle(scenarios)
        for scenario in scenarios:
            part = self.part_for(scenario.part, state.vehicle)
            if part is not None and not self.recently_repaired(state, part, day):
                yield scenario, part

    def repair_payload(
        self,
        vehicle: Vehicle,
        scenario: Scenario,
        part: Part,
        odometer: int,
        day: date,
        *,
        extra_lines: tuple = (),
        labor_over: str = "",
        goodwill: str = "",
        hours: Decimal | None = None,
        claim_type: str = "repair",
    ) -> dict:
        operation = self.operations[scenario.operation]
        hours = operation.standard_hours if hours is None else hours
        lines = [
            {"kind": "part", "part_number": part.number, "qty": scenario.qty},
            {
                "kind": "labor",
                "operation_code": operation.code,
                "hours": str(hours),
                "description": labor_over,
            },
        ]
        for extra in (*scenario.extras, *extra_lines):
            if extra.kind == "part":
                extra_part = self.part_for(extra.ref, vehicle)
                if extra_part is not None:
                    lines.append({"kind": "part", "part_number": extra_part.number, "qty": 1})
            else:
                lines.append({"kind": "other", "amount": extra.amount, "description": extra.ref})
        fault_day = max(vehicle.sale_date, day - timedelta(days=self.rng.randint(0, 4)))
        return {
            "type": claim_type,
            "vin": vehicle.vin,
            "odometer_km": odometer,
            "repair_date": day.isoformat(),
            "fault_date": fault_day.isoformat(),
            "fault_code": scenario.fault,
            "causal_part": part.number,
            "complaint": self.text(scenario.complaint),
            "cause": self.text(scenario.cause),
            "correction": self.text(scenario.correction),
            "goodwill_reason": goodwill,
            "lines": lines,
        }

    def repair_script(
        self, intent: Intent, vehicle: Vehicle, scenario: Scenario, part: Part, odometer: int
    ) -> Script | None:
        """The script of a repair story, or None when the repair's amount does not fit it."""
        rng, station, flavour, outcome = self.rng, intent.station, intent.flavour, intent.outcome
        day = intent.repair_day()
        operation = self.operations[scenario.operation]
        recipe, extra_lines = "", ()
        if outcome == PARTIAL:
            recipe = {"labor": "excessive_labor", "goodwill": "goodwill"}.get(
                flavour
            ) or rng.choice(("diagnosis", "towing", "wear_item", "part_not_returned"))
            extra_lines = RECIPE_LINES.get(recipe, ())
        elif flavour == "costly" and rng.random() < 0.3:
            extra_lines = (Extra("other", TOWING_FEE, f"{rng.randint(30, 90) * 10}.00"),)
        labor_over, hours, goodwill = "", operation.standard_hours, ""
        if flavour == "labor":
            labor_over = rng.choice(LABOR_OVER_REASONS).both
            hours += Decimal(rng.choice(("0.50", "1.00", "1.50", "2.00")))
        if flavour == "goodwill":
            policy = vehicle.model.policy_for(part.group)
            coverage = coverage_of(policy, vehicle.sale_date, day, odometer)
            months = (day - coverage.expires_on).days // 30 + 1
            reason = rng.choice(GOODWILL_REASONS[coverage.reason])
            goodwill = reason.both.format(months=months, limit=policy.km)
        first = self.repair_payload(
            vehicle,
            scenario,
            part,
            odometer,
            day,
            extra_lines=extra_lines,
            labor_over=labor_over,
            goodwill=goodwill,
            hours=hours,
        )
        payloads, files, reasons = [first], [self.claim_files()], []
        asked = ["labor"] if flavour == "labor" else rng.sample(("photos", "cause"), 2)
        for reason in asked[: intent.returns]:  # what the station changes after each return
            reasons.append(RETURN_REASONS[reason].both)
            following = dict(payloads[-1])
            added: Files = []
            if reason == "labor":
                following["lines"] = [
                    {**line, "hours": str(operation.standard_hours), "description": ""}
                    if line.get("operation_code") == operation.code
                    else line
                    for line in following["lines"]
                ]
            elif reason == "cause":
                following["cause"] += " " + rng.choice(CAUSE_ADDENDA).both
            else:
                added = self.photos(2, ("补充故障件照片", "补充故障码截图"))
            payloads.append(following)
            files.append(added)
        # Each submission must land where the story says: auto-approved, or in the queue.
        expects = []
        for index, payload in enumerate(payloads):
            flagged = flavour == "goodwill" or (flavour == "labor" and index == 0)
            auto = not flagged and self.auto_approvable(station, payload)
            if outcome == DRAFT:
                if auto != (flavour == "cheap"):
                    return None
                continue
            wants_auto = outcome == AUTO and index == len(payloads) - 1
            if auto != wants_auto:
                return None
            expects.append(ClaimStatus.APPROVED if wants_auto else ClaimStatus.IN_REVIEW)
        script = Script(self.key(), self.user(station), payloads, files, expects, reasons)
        self.add_talk(intent, script)
        self.add_decision(
            script,
            outcome,
            recipe,
            "goodwill" if flavour == "goodwill" else "repair",
            return_reason=rng.choice(("photos", "cause")),
        )
        return script

    def claim_files(self) -> Files:
        """Photos, and now and then the repair order, on a good share of claims."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.4:
            return []
        files = self.photos(rng.randint(1, 2))
        if roll > 0.85:
            files.append(
                self.receipt(
                    "维修工单.pdf",
                    [
                        "Huaxing Motors - Repair order",
                        f"No. WO{rng.randint(100000, 999999)}",
                        "Warranty repair: parts and labor as claimed.",
                    ],
                )
            )
        return files

    def add_talk(self, intent: Intent, script: Script, index: int = 0) -> None:
        """The comments of the script's `comment` events: a question and its answer."""
        talk = sum(1 for _, i, action in intent.events if action == "comment" and i == index)
        if talk:
            first, question, second, answer = self.rng.choice(COMMENT_THREADS)
            users = {"auditor": self.auditor, "station": script.user}
            said = [(users[first], self.text(question)), (users[second], self.text(answer))]
            script.comments = said[:talk]

    def add_decision(
        self,
        script: Script,
        outcome: str,
        recipe: str = "",
        reject_kind: str = "",
        *,
        approve_reason: str = "",
        return_reason: str = "photos",
        other_key: str = "",
        cap: Decimal | None = None,
    ) -> None:
        """How the auditor ends the script: approve, cut, reject, or return it once more."""
        if outcome == APPROVE:
            script.decision = lambda claim, run: Decision("approve", reason=approve_reason)
            script.decided = ClaimStatus.APPROVED
        elif outcome == PARTIAL:

            def partial(claim: Claim, run: Run) -> Decision:
                other = run.claims[other_key].number if other_key else ""
                return Decision(
                    "approve",
                    lines=cut_lines(claim, recipe, other=other, cap=cap),
                    reason="部分批准，详见各行说明。 Partially approved, see the lines.",
                )

            script.decision, script.decided = partial, ClaimStatus.PARTIALLY_APPROVED
        elif outcome == REJECT:
            template = self.rng.choice(REJECT_REASONS[reject_kind])

            def reject(claim: Claim, run: Run) -> Decision:
                other = run.claims[other_key].number if other_key else ""
                return Decision("reject", reason=template.both.format(other=other))

            script.decision, script.decided = reject, ClaimStatus.REJECTED
        elif outcome == RETURN:
            script.returns = [*script.returns, RETURN_REASONS[return_reason].both]

    # the same VIN and causal part twice within 30 days (duplicate flag)
    def plan_duplicate(self, intent: Intent) -> bool:
        day, second_day = intent.repair_day(0), intent.repair_day(1)
        step, step2 = self.odometer_step(), self.odometer_step()
        for state in self.candidates(intent, day):
            vehicle = state.vehicle
            for scenario, part in self.repairs_for(state, day, REPAIR_SCENARIOS):
                odometer, odometer2 = state.odometer + step, state.odometer + step + step2
                if not (
                    self.covered(vehicle, part, day, odometer)
                    and self.covered(vehicle, part, second_day, odometer2)
                ):
                    continue
                first = self.repair_payload(vehicle, scenario, part, odometer, day)
                if self.auto_approvable(intent.station, first) != (intent.then == AUTO):
                    continue
                second = self.repair_payload(vehicle, scenario, part, odometer2, second_day)
                second["complaint"] = (
                    "同一故障再次出现。 The same fault came back. " + second["complaint"]
                )
                user = self.user(intent.station)
                one = Script(
                    self.key(),
                    user,
                    [first],
                    [self.claim_files()],
                    [FINAL_STATUS[AUTO] if intent.then == AUTO else ClaimStatus.IN_REVIEW],
                )
                self.add_decision(one, intent.then)
                two = Script(self.key(), user, [second], [self.photos(2)], [ClaimStatus.IN_REVIEW])
                self.add_talk(intent, two, index=1)
                self.add_decision(two, intent.outcome, "duplicate", "duplicate", other_key=one.key)
                self.schedule(intent, [one, two])
                self.book(state, intent, [odometer, odometer2], [part, part])
                return True
        return False

    # appraisal (鉴定单), and the major-assembly claim (大总成单) it allows
    def plan_appraisal(self, intent: Intent) -> bool:
        rng, day = self.rng, intent.repair_day(0)
        chained = bool(intent.then)
        days = [day, intent.repair_day(1)] if chained else [day]
        step = self.odometer_step()
        for state in self.candidates(intent, day):
            vehicle = state.vehicle
            for scenario, part in self.repairs_for(state, day, MAJOR_ASSEMBLY_SCENARIOS):
                odometer = state.odometer + step
                if not all(self.covered(vehicle, part, d, odometer + 100) for d in days):
                    continue
                fault_day = max(vehicle.sale_date, day - timedelta(days=rng.randint(0, 3)))
                payload = {
                    "type": "appraisal",
                    "vin": vehicle.vin,
                    "odometer_km": odometer,
                    "repair_date": day.isoformat(),
                    "fault_date": fault_day.isoformat(),
                    "fault_code": scenario.fault,
                    "causal_part": part.number,
                    "complaint": self.text(scenario.complaint),
                    "cause": self.text(scenario.cause),
                    "correction": self.text(
                        T("申请更换总成。", "Requesting a replacement assembly.")
                    ),
                }
                photos = (
                    []
                    if intent.outcome == RETURN
                    else self.photos(rng.randint(2, 3), ("拆检照片",))
                )
                appraisal = Script(
                    self.key(),
                    self.user(intent.station),
                    [payload],
                    [photos],
                    [ClaimStatus.IN_REVIEW],
                )
                self.add_talk(intent, appraisal)
                self.add_decision(
                    appraisal,
                    intent.outcome,
                    "",
                    "appraisal",
                    return_reason="teardown",
                    approve_reason="同意更换总成，请在30天内提交大总成单。 Approved: file the "
                    "major-assembly claim within 30 days.",
                )
                scripts, odometers = [appraisal], [odometer]
                if chained:
                    odometers.append(odometer + rng.randint(0, 100))
                    scripts.append(
                        self.major_assembly_script(intent, vehicle, scenario, part, odometers[-1])
                    )
                self.schedule(intent, scripts)
                self.book(state, intent, odometers, [part] * len(scripts))
                return True
        return False

    def major_assembly_script(
        self, intent: Intent, vehicle: Vehicle, scenario: Scenario, part: Part, odometer: int
    ) -> Script:
        rng, outcome = self.rng, intent.then
        operation = self.operations[scenario.operation]
        recipe = "excessive_labor" if outcome == PARTIAL and rng.random() < 0.5 else "towing"
        labor_over, hours, extra = "", operation.standard_hours, ()
        if recipe == "excessive_labor":
            labor_over, hours = rng.choice(LABOR_OVER_REASONS).both, hours + Decimal("2.00")
        else:
            extra = (Extra("other", TOWING_FEE, f"{rng.randint(40, 120) * 10}.00"),)
        payload = self.repair_payload(
            vehicle,
            scenario,
            part,
            odometer,
            intent.repair_day(1),
            extra_lines=extra,
            labor_over=labor_over,
            hours=hours,
            claim_type="major_assembly",
        )
        returns = 1 if intent.flavour == "ma-resubmitted" else 0
        script = Script(
            self.key(),
            self.user(intent.station),
            [payload] * (1 + returns),
            [self.photos(2, ("总成铭牌", "损坏部位"))] + [self.photos(2, ("旧件照片",))] * returns,
            [ClaimStatus.IN_REVIEW] * (1 + returns),
            [RETURN_REASONS["photos"].both] * returns,
        )
        self.add_talk(intent, script, index=1)
        self.add_decision(script, outcome, recipe, "repair")
        return script

    # roadside emergency (外出急救单)
    def plan_roadside(self, intent: Intent) -> bool:
        rng, station, day = self.rng, intent.station, intent.repair_day()
        costly, step = intent.flavour == "costly", self.odometer_step()
        for state in self.candidates(intent, day):
            vehicle = state.vehicle
            for _ in range(4):
                km = rng.randint(330, 620) if costly else rng.randint(30, 260)
                hours = Decimal(rng.randint(3, 10) if costly else rng.randint(2, 8)) / 2
                tolls = Decimal(rng.randint(0, 32) * 10 if costly else rng.randint(0, 18) * 5)
                complaint, cause, correction, fault = rng.choice(ROADSIDE_STORIES)
                road, at_km = rng.choice(ROADS), rng.randint(12, 1800)
                lines = [{"kind": "trip", "qty": km}, {"kind": "labor", "hours": f"{hours:.2f}"}]
                if tolls:
                    lines.append(
                        {"kind": "other", "amount": f"{tolls:.2f}", "description": "Tolls"}
                    )
                payload = {
                    "type": "roadside",
                    "vin": vehicle.vin,
                    "odometer_km": state.odometer + step,
                    "repair_date": day.isoformat(),
                    "fault_date": day.isoformat(),
                    "fault_code": fault,
                    "complaint": self.text(
                        T(
                            complaint.zh.format(road=road, km=at_km),
                            complaint.en.format(road=road, km=at_km),
                        )
                    ),
                    "cause": self.text(cause),
                    "correction": self.text(correction),
                    "lines": lines,
                }
                payloads = [payload]
                if intent.returns:  # first claimed with a towing fee it had no invoice for
                    towing = {"kind": "other", "amount": "1800.00", "description": TOWING_FEE}
                    payloads = [{**payload, "lines": [*lines, towing]}, payload]
                    if self.auto_approvable(station, payloads[0]):
                        continue
                if self.auto_approvable(station, payload) == costly:
                    continue
                toll_receipt = self.receipt(
                    "过路费发票.pdf",
                    [
                        "Expressway toll receipt",
                        f"Road {road[:3]}",
                        f"Amount CNY {tolls:.2f}",
                        f"Date {day.isoformat()}",
                    ],
                )
                photo = ("现场照片.png", png_photo(rng))
                files = [[photo], [toll_receipt]] if intent.returns else [[toll_receipt, photo]]
                expects = [ClaimStatus.IN_REVIEW] * intent.returns + [
                    FINAL_STATUS[AUTO] if intent.outcome == AUTO else ClaimStatus.IN_REVIEW
                ]
                script = Script(
                    self.key(),
                    self.user(station),
                    payloads,
                    files,
                    expects,
                    [RETURN_REASONS["towing"].both] * intent.returns,
                )
                self.add_talk(intent, script)
                self.add_decision(
                    script,
                    intent.outcome,
                    rng.choice(("trip_km", "roadside_hours")),
                    "roadside",
                    return_reason="receipt",
                )
                self.schedule(intent, [script])
                self.book(state, intent, [state.odometer + step], [None])
                return True
        return False

    # outsourced purchase (外购申请单) and the repair that draws on its cap
    def plan_outsourced(self, intent: Intent) -> bool:
        rng, station, day = self.rng, intent.station, intent.repair_day(0)
        chained = bool(intent.then)
        scenarios = [s for s in REPAIR_SCENARIOS if s.part in OUTSOURCED_PARTS]
        step = self.odometer_step()
        for state in self.candidates(intent, day):
            vehicle = state.vehicle
            for scenario, part in self.repairs_for(state, day, scenarios):
                odometer = state.odometer + step
                later = intent.repair_day(1) if chained else day
                if not (
                    self.covered(vehicle, part, day, odometer)
                    and self.covered(vehicle, part, later, odometer + 300)
                ):
                    continue
                price = part.price_on(day)
                quote = round_money(price * Decimal(rng.randint(112, 135)) / 100)
                cap = round_money(price * Decimal("1.10"))
                wait, vendor = rng.randint(10, 25), rng.choice(LOCAL_VENDORS)
                request = {
                    "type": "outsourced_purchase",
                    "vin": vehicle.vin,
                    "odometer_km": odometer,
                    "repair_date": day.isoformat(),
                    "causal_part": part.number,
                    "complaint": (
                        f"配件中心{part.name.split(' ')[0]}缺货，预计{wait}天到货，"
                        "客户车辆停驶，申请本地外购。 "
                        f"Parts centre out of stock ({wait} days); the vehicle is off the road, "
                        "local purchase requested."
                    ),
                    "lines": [
                        {
                            "kind": "other",
                            "amount": f"{quote:.2f}",
                            "description": f"外购报价 Local quotation: {vendor}",
                        }
                    ],
                }
                quotation = self.receipt(
                    "外购报价单.pdf",
                    [
                        "Quotation",
                        f"Part {part.number}",
                        f"Price CNY {quote:.2f}",
                    ],
                )
                script = Script(
                    self.key(),
                    self.user(station),
                    [request],
                    [[quotation]],
                    [ClaimStatus.IN_REVIEW],
                )
                self.add_talk(intent, script)
                self.add_decision(
                    script,
                    intent.outcome,
                    "cap",
                    "outsourced",
                    cap=cap,
                    approve_reason="同意外购，以报价金额为上限，有效期60天。 Approved: the "
                    "quotation is the cap, valid for 60 days.",
                )
                scripts, odometers = [script], [odometer]
                if chained:
                    approved_cap = quote if intent.outcome == APPROVE else cap
                    repair = self.outsourced_repair(
                        intent, vehicle, scenario, part, odometer + 300, script, approved_cap
                    )
                    if repair is None:
                        continue
                    scripts.append(repair)
                    odometers.append(odometer + 300)
                self.schedule(intent, scripts)
                self.book(state, intent, odometers, [part] * len(scripts))
                return True
        return False

    def outsourced_repair(
        self,
        intent: Intent,
        vehicle: Vehicle,
        scenario: Scenario,
        part: Part,
        odometer: int,
        request: Script,
        cap: Decimal,
    ) -> Script | None:
        """The repair that pays the local invoice, up to the request's approved cap."""
        rng, station, outcome = self.rng, intent.station, intent.then
        invoice = round_money(cap * Decimal(rng.randint(92, 100)) / 100)
        operation = self.operations[scenario.operation]
        labor_over, hours = "", operation.standard_hours
        if outcome != AUTO:  # extra hours to fit the local part: flagged for the auditor
            labor_over, hours = rng.choice(LABOR_OVER_REASONS).both, hours + Decimal("1.00")
        payload = self.repair_payload(vehicle, scenario, part, odometer, intent.repair_day(1))
        payload["lines"] = [
            {
                "kind": "other",
                "amount": f"{invoice:.2f}",
                "description": f"外购发票 Invoice No. {rng.randint(10**9, 10**10 - 1)}",
            },
            {
                "kind": "labor",
                "operation_code": operation.code,
                "hours": str(hours),
                "description": labor_over,
            },
        ]
        if (outcome == AUTO) != self.auto_approvable(station, payload):
            return None

        def with_request(run: Run) -> dict:
            return {**payload, "outsourced_request": run.claims[request.key].number}

        invoice_pdf = self.receipt("外购发票.pdf", ["VAT invoice", f"Amount CNY {invoice:.2f}"])
        script = Script(
            self.key(),
            self.user(station),
            [with_request],
            [[invoice_pdf]],
            [FINAL_STATUS[AUTO] if outcome == AUTO else ClaimStatus.IN_REVIEW],
        )
        self.add_talk(intent, script, index=1)
        self.add_decision(script, outcome, "excessive_labor", "repair")
        return script

    # emergency part transfer (紧急调件单)
    def plan_emergency(self, intent: Intent) -> bool:
        rng, station, day = self.rng, intent.station, intent.repair_day()
        fulfilment, step = intent.flavour.split("-")[0], self.odometer_step()
        for state in self.candidates(intent, day):
            part = self.part_for(rng.choice(EMERGENCY_PARTS), state.vehicle)
            if part is None:
                continue
            payload = {
                "type": "emergency_part",
                "vin": state.vehicle.vin,
                "odometer_km": state.odometer + step,
                "repair_date": day.isoformat(),
                "complaint": self.text(
                    T(
                        f"车辆停驶待件（VOR），{part.name.split(' ')[0]}本站无库存，客户急需。",
                        f"Vehicle off the road waiting for {part.number}; none in stock here.",
                    )
                ),
                "fulfilment": "regular" if fulfilment == "regular" else "drop_ship",
                "lines": [{"kind": "part", "part_number": part.number, "qty": 1}],
            }
            shipper = self.auditor  # a regular shipment leaves the OEM parts centre
            if fulfilment == "station":
                shipping = rng.choice([s for s in self.demo.stations if s.id != station.id])
                payload["shipper_code"], shipper = shipping.code, self.user(shipping)
            elif fulfilment == "supplier":
                payload["shipper_code"] = part.supplier.code
                shipper = self.demo.org_users[part.supplier.code]
            carrier, prefix = rng.choice(CARRIERS)
            tracking = f"{prefix}{rng.randint(10**11, 10**12 - 1)}"
            script = Script(
                self.key(),
                self.user(station),
                [payload],
                [[]],
                [ClaimStatus.IN_REVIEW],
                shipper=shipper,
                shipment=(carrier, tracking, Decimal(rng.randint(35, 260))),
            )
            self.add_decision(
                script,
                intent.outcome,
                "",
                "emergency",
                return_reason="vor",
                approve_reason="同意调件，请尽快发货。 Approved: please ship at once.",
            )
            self.schedule(intent, [script])
            self.book(state, intent, [state.odometer + step], [None])
            return True
        return False


def _merge(first: list, second: list) -> list:
    return sorted(first + second, key=lambda event: event[0])


# Lines a partial approval cuts, added to the claim so that the cut has something to cut.
RECIPE_LINES = {
    "diagnosis": (Extra("other", DIAGNOSIS_FEE, "120.00"),),
    "towing": (Extra("other", TOWING_FEE, "650.00"),),
    "wear_item": (Extra("part", "5205020"),),
}


def cut_lines(claim: Claim, recipe: str, **context) -> list[LineDecision]:
    """The auditor's cuts on `claim`'s lines for one kind of partial approval."""
    cuts = []
    for line in claim.lines:
        cut = _cut(claim, line, recipe, **context)
        if cut is not None:
            cuts.append(cut)
    if not cuts:
        raise DemoError(f"nothing to cut on {claim.number} for {recipe}")
    return cuts


def _cut(
    claim: Claim, line: ClaimLine, recipe: str, *, other: str = "", cap: Decimal | None = None
) -> LineDecision | None:
    kind, text = line.kind, line.description or ""
    if recipe == "excessive_labor" and kind is LineKind.LABOR and line.operation is not None:
        standard = line.operation.standard_hours
        if line.hours > standard:
            return LineDecision(
                line.id,
                approved_hours=standard,
                reason="excessive_labor",
                note=f"按工时定额核定 {standard} 小时。 Approved at the flat rate.",
            )
    elif recipe == "diagnosis" and kind is LineKind.OTHER and text == DIAGNOSIS_FEE:
        return LineDecision(
            line.id,
            approved_amount=ZERO,
            reason="duplicate_charge",
            note="诊断已含在维修工时中。 Diagnosis is part of the labor operation.",
        )
    elif recipe == "towing" and kind is LineKind.OTHER and text == TOWING_FEE:
        return LineDecision(
            line.id,
            approved_amount=round_money(line.amount * HALF),
            reason="insufficient_documentation",
            note="拖车发票不全，按50%核定。 Towing invoice incomplete: 50% approved.",
        )
    elif recipe == "wear_item" and kind is LineKind.PART and line.part.group == "wear":
        return LineDecision(
            line.id,
            approved_qty=0,
            reason="not_covered",
            note="易损件不在保修范围。 Wear items are not covered.",
        )
    elif recipe == "duplicate" and kind is LineKind.PART and line.part_id == claim.causal_part_id:
        return LineDecision(
            line.id,
            approved_qty=0,
            reason="duplicate_charge",
            note=f"配件已在索赔单 {other} 中结算，仅批准工时。 Part already paid on {other}.",
        )
    elif (
        recipe == "part_not_returned"
        and kind is LineKind.PART
        and line.part_id == claim.causal_part_id
    ):
        return LineDecision(
            line.id,
            approved_qty=line.qty - 1,
            reason="part_not_returned",
            note="旧件未按规定返回，配件费暂不结算。 Old part not returned: part withheld.",
        )
    elif recipe == "goodwill" and kind in (LineKind.PART, LineKind.LABOR):
        return LineDecision(
            line.id,
            approved_amount=round_money(line.amount * HALF),
            reason="outside_coverage",
            note="超出保修期，商誉支持50%。 Outside coverage: 50% goodwill.",
        )
    elif recipe == "cap" and kind is LineKind.OTHER and cap is not None and cap < line.amount:
        return LineDecision(
            line.id,
            approved_amount=cap,
            reason="partial_approval",
            note=f"按配件中心价格上浮10%核定上限 {cap} 元。 Cap: parts-centre price +10%.",
        )
    elif recipe == "trip_km" and kind is LineKind.TRIP:
        km = line.qty * 3 // 4
        return LineDecision(
            line.id,
            approved_qty=km,
            reason="insufficient_documentation",
            note=f"按导航里程核定往返 {km} 公里。 Round trip approved per navigation: {km} km.",
        )
    elif recipe == "roadside_hours" and kind is LineKind.LABOR:
        hours = max(Decimal("1.00"), line.hours - Decimal("1.50"))
        return LineDecision(
            line.id,
            approved_hours=hours,
            reason="excessive_labor",
            note=f"现场作业按 {hours} 小时核定。 On-site work approved at {hours} h.",
        )
    return None


# ---------------------------------------------------------------------------------------------
# The steps
# ---------------------------------------------------------------------------------------------


def add_organisation_users(demo: Demo) -> None:
    """A login for each further station and supplier, so that each files or ships its own.

    They share the demo password; its hash is copied from the first station login rather than
    computed again (argon2 is slow on purpose).
    """
    password_hash = demo.users["station"].password_hash
    for user in demo.users.values():
        demo.org_users.setdefault(user.organisation.code, user)
    names = iter(("王建军", "李秀英", "张伟", "刘芳", "陈静", "杨勇", "黄磊", "赵敏", "吴涛"))
    extra = []
    for role, orgs in (
        (Role.STATION, demo.stations),
        (Role.SUPPLIER, list(demo.suppliers.values())),
    ):
        n = sum(1 for user in demo.users.values() if user.role is role)  # station, station2
        for org in orgs:
            if org.code in demo.org_users:
                continue
            n += 1
            user = User(
                username=f"{role.value}{n}",
                role=role,
                organisation=org,
                full_name=next(names),
                password_hash=password_hash,
            )
            demo.org_users[org.code] = user
            extra.append(user)
    demo.add(extra)


def add_claims(demo: Demo) -> None:
    """Several hundred claims of every type in every state (but settled), over half a year."""
    planner = Planner(demo)
    events = planner.plan()
    rng = demo.rng
    last: dict[int, datetime] = {}
    for event in events:  # a moment of the working day, later than the script's previous one
        previous = last.get(id(event.script))
        moment = local_moment(event.day, rng.randint(8 * 60 + 30, 17 * 60 + 30))
        if previous is not None and moment <= previous:
            moment = previous + timedelta(minutes=rng.randint(5, 50))
        event.moment = last[id(event.script)] = moment
    order = sorted(range(len(events)), key=lambda i: (events[i].moment, i))
    run = Run(planner.auditor)
    clock = SimulatedClock(demo.today)
    with quiet_notifications(), clock.active():
        for i in order:
            clock.now = events[i].moment
            run(events[i])
        clock.now = events[order[-1]].moment
        db.session.flush()
    demo.claims = list(run.claims.values())


ANNOUNCEMENTS = (
    # days ago, audience ("all", regions, or station codes), title, body
    (
        150,
        "all",
        T(
            "索赔系统上线：七类单据统一在线提交",
            "Warranty portal live: all seven claim types online",
        ),
        T(
            "自即日起，保修单、大总成单、鉴定单、走保单、外出急救单、外购申请单及紧急调件单"
            "均通过本系统提交，纸质单据停止受理。",
            "From today every claim and request is filed in the portal; paper forms are no "
            "longer accepted.",
        ),
    ),
    (
        120,
        "all",
        T("工时定额 2025 版更新", "Labor-time catalogue 2025 update"),
        T(
            "发动机、变速箱类共 18 项工时定额已调整，按维修日期适用新定额；"
            "超出定额须在工时行说明原因。",
            "18 engine and gearbox operations have new flat rates, applied by repair date; "
            "hours above the rate need a reason on the labor line.",
        ),
    ),
    (
        96,
        ("华北 North", "东北 Northeast", "西北 Northwest"),
        T("冬季低温启动及预热作业指引", "Winter cold-start and pre-heating guide"),
        T(
            "气温低于 -15℃ 时请先检查蓄电池及预热塞；因低温需要的预热工时可单独说明申报。",
            "Below -15 °C check batteries and glow plugs first; pre-heating time may be claimed "
            "with a reason.",
        ),
    ),
    (
        75,
        "all",
        T("召回通知：H9 牵引车转向横拉杆球头检查", "Recall: H9 tie-rod ball joint inspection"),
        T(
            "受影响 H9 牵引车进站时请免费检查转向横拉杆球头并按需更换，工时按 W3003-01 申报。",
            "Inspect the tie-rod ball joints of affected H9 tractors free of charge at their "
            "next visit and replace them as needed; claim the labor as W3003-01.",
        ),
    ),
    (
        60,
        ("ST-SH01", "ST-GZ01", "ST-CD01"),
        T("SCR 后处理器质量改进试点", "SCR after-treatment quality pilot"),
        T(
            "试点服务站更换的 SCR 后处理器旧件请全部返回整车厂，勿按折价处理。",
            "Pilot stations: return every replaced SCR unit to the OEM; none is scrapped at "
            "the station.",
        ),
    ),
    (
        40,
        "all",
        T("旧件返回期限提醒：批准后 30 天内", "Old-part return deadline: 30 days after approval"),
        T(
            "逾期未返回的旧件将在下期结算中扣回对应配件费用，请及时安排返件。",
            "Old parts not shipped within 30 days are charged back on the next statement.",
        ),
    ),
    (
        21,
        ("华东 East",),
        T("华东区域索赔业务培训通知", "East region claims training"),
        T(
            "培训定于下月第一周在上海举行，内容包括新版索赔系统操作与常见退单原因。",
            "Training in Shanghai in the first week of next month: the portal and the common "
            "reasons for returned claims.",
        ),
    ),
    (
        6,
        "all",
        T("结算日历：每月 5 日前完成上月索赔结算", "Settlement calendar: by the 5th of each month"),
        T(
            "每月 5 日前发布上月服务站结算单，请核对后确认；有异议请在 10 日前提出。",
            "Statements for the previous month are released by the 5th; raise questions by "
            "the 10th.",
        ),
    ),
)


def add_announcements(demo: Demo) -> None:
    """信息发布: the auditor publishes, and some of the stations addressed have read each one.

    The first demo station has read the older announcements and not the newest ones, so its
    inbox shows both; no announcement is read by every station it went to.
    """
    rng, auditor, first = demo.rng, demo.users["auditor"], demo.stations[0]
    readings = []
    clock = SimulatedClock(demo.today)
    with quiet_notifications(), clock.active():
        for days_ago, audience, title_text, body_text in ANNOUNCEMENTS:
            title, body = title_text.both, f"{body_text.zh}\n{body_text.en}"
            clock.now = local_moment(demo.today - timedelta(days=days_ago), rng.randint(540, 1020))
            if audience == "all":
                announcement = announcements.publish(
                    auditor, title=title, body=body, audience=announcements.Audience.ALL
                )
            elif all(code.startswith("ST-") for code in audience):
                announcement = announcements.publish(
                    auditor,
                    title=title,
                    body=body,
                    audience=announcements.Audience.STATIONS,
                    station_codes=list(audience),
                )
            else:
                announcement = announcements.publish(
                    auditor,
                    title=title,
                    body=body,
                    audience=announcements.Audience.REGIONS,
                    region_names=list(audience),
                )
            stations = announcement.stations if not announcement.to_all else list(demo.stations)
            share = 0.75 if days_ago > 30 else 0.4
            readers = [s for s in stations if s is not first and rng.random() < share]
            if first in stations and days_ago > 30:
                readers.append(first)
            if len(readers) == len(stations):
                readers.pop(rng.randrange(len(readers)))
            for station in readers:
                minutes = rng.randint(20, 60 * 24 * min(days_ago - 1, 8))
                readings.append((clock.now + timedelta(minutes=minutes), announcement, station))
        for moment, announcement, station in sorted(readings, key=lambda r: (r[0], r[1].id)):
            clock.now = moment
            announcements.record_read(announcement, demo.org_users[station.code])
            clock.settle_bulk_updates()
        db.session.flush()
