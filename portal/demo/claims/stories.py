"""What the demo's claims tell (演示索赔单的故事): repairs, requests, reasons and the mix.

Failures and their repairs (中文 + English), major assemblies, roadside trips, what the
auditor says when returning, cutting or rejecting, the talk on a claim, and `CLAIM_MIX`: what
each story ends as and how many of each the demo files.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from portal.claims.models import ClaimStatus

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
    ("repair", "other_model_part", REVIEW, 0, 8),  # flagged part_not_for_model
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
