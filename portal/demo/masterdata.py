"""The demo's master data (主数据): organisations, models, parts, labor, fault codes, vehicles.

A fictional OEM, 华星汽车 Huaxing Motors, that builds a heavy truck, a light truck and an SUV,
with its service stations across China, four parts suppliers, a parts catalogue in the
QC/T 265 numbering, labor operations, fault codes and hundreds of sold vehicles. Each step
adds its rows, keeps them on the `Demo` for the steps after it, and commits. Everything comes
from the demo's `random.Random`, and dates are relative to the demo's today.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from portal.demo.context import Demo
from portal.extensions import db
from portal.installation import set_up
from portal.masterdata.models import (
    Disposition,
    FaultCode,
    LaborOperation,
    Part,
    PartModel,
    PartPrice,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyPolicy,
)
from portal.masterdata.vin import with_check_digit
from portal.money import round_money

OEM_NAME = "华星汽车 Huaxing Motors"

# Which models a catalogue part comes in, and what happens to the old part of an approved claim.
ALL = ("H9", "T5", "S7")
TRUCKS = ("H9", "T5")
SUV = ("S7",)
UNIVERSAL = ()  # one part number fits every model
MAJOR = "major"  # a major assembly (大总成): the old part goes straight back to its maker
SCRAP = "scrap"  # a consumable scrapped at the station at the given residual value (折价)
TO_OEM = "to_oem"  # the old part is returned to the OEM


class ModelSpec(NamedTuple):
    """A vehicle model of the demo, with what the vehicle builder needs to know about it."""

    code: str
    name: str
    break_in: tuple[int, int, int, str]  # days, min km, max km, package price
    policies: tuple[tuple[str, int, int], ...]  # coverage group, months, km
    part_suffix: str  # the model's variant of a catalogue part: 1000010-H9
    part_price_factor: str  # its variant's price against the catalogue (light-truck) price
    sales_share: int  # relative weight among the demo's vehicles
    km_per_day: tuple[int, int]  # how far a vehicle of the model is driven, low and high
    company_owned: int  # percent of vehicles registered to a company rather than a person
    vin_vds: str  # VIN positions 4-8
    vin_plant: str  # VIN position 11
    engine_prefix: str


class PartKind(NamedTuple):
    """A catalogue entry: one part per model it comes in (1000010-H9), or one universal part."""

    number: str  # QC/T 265 group and component number
    zh: str
    en: str
    group: str  # coverage group
    price: str  # CNY, the light-truck variant
    models: tuple[str, ...]
    old_part: str = TO_OEM  # or MAJOR, SCRAP
    scrap_rate: str = "0"


# ---------------------------------------------------------------------------------------------
# Data tables. Stations and suppliers follow the columns of the CSV import (DESIGN section 8).
# They are kept one row per line, so the formatter leaves them alone.
# ---------------------------------------------------------------------------------------------
# fmt: off

# code, name, region, labor_rate (CNY/h), km_rate (CNY/km), parts_handling_rate
STATIONS = (
    ("ST-SH01", "上海浦东服务站 Shanghai Pudong Service", "华东 East", "95.00", "3.20", "0.10"),
    ("ST-BJ01", "北京顺义服务站 Beijing Shunyi Service", "华北 North", "110.00", "3.80", "0.12"),
    ("ST-GZ01", "广州白云服务站 Guangzhou Baiyun Service", "华南 South", "100.00", "3.50", "0.10"),
    ("ST-CD01", "成都武侯服务站 Chengdu Wuhou Service", "西南 Southwest", "75.00", "2.80", "0.08"),
    ("ST-XA01", "西安高新服务站 Xi'an Hi-Tech Service", "西北 Northwest", "65.00", "2.50", "0.06"),
    ("ST-SY01", "沈阳铁西服务站 Shenyang Tiexi Service", "东北 Northeast", "70.00", "2.70", "0.07"),
    ("ST-WH01", "武汉汉阳服务站 Wuhan Hanyang Service", "华中 Central", "80.00", "3.00", "0.09"),
    ("ST-HZ01", "杭州萧山服务站 Hangzhou Xiaoshan Service", "华东 East", "90.00", "3.30", "0.15"),
)

# code, name, recovery_share, labor_hours_cap (None: no cap), handling_fee_rate
SUPPLIERS = (
    ("SU-YF", "玉峰动力股份有限公司 Yufeng Power (engines)", "1.00", None, "0.05"),
    ("SU-JL", "金陵变速器有限公司 Jinling Transmission (gearboxes)", "0.80", "6.00", "0.03"),
    ("SU-HD", "华电汽车电子有限公司 Huadian Auto Electronics", "1.00", "2.50", "0.08"),
    ("SU-TZ", "泰州底盘车身件有限公司 Taizhou Chassis & Body Parts", "0.60", None, "0.00"),
)
ENGINES, GEARBOXES, ELECTRICAL, CHASSIS = (code for code, *_ in SUPPLIERS)

MODELS = (
    ModelSpec(
        "HX-H9", "华星 H9 牵引车 Huaxing H9 heavy tractor", break_in=(60, 3000, 10000, "1280.00"),
        policies=(("basic", 24, 200000), ("powertrain", 36, 500000), ("electrical", 24, 200000),
                  ("body", 24, 200000), ("wear", 3, 20000)),
        part_suffix="H9", part_price_factor="1.60", sales_share=30, km_per_day=(250, 450),
        company_owned=60, vin_vds="H9A4C", vin_plant="S", engine_prefix="YF13E",
    ),
    ModelSpec(
        "HX-T5", "华星 T5 轻型卡车 Huaxing T5 light truck", break_in=(90, 1500, 5000, "480.00"),
        policies=(("basic", 36, 100000), ("powertrain", 60, 200000), ("electrical", 36, 100000),
                  ("body", 36, 100000), ("wear", 6, 5000)),
        part_suffix="T5", part_price_factor="1.00", sales_share=35, km_per_day=(60, 160),
        company_owned=30, vin_vds="T5B2D", vin_plant="H", engine_prefix="YF4DT",
    ),
    ModelSpec(
        "HX-S7", "华星 S7 运动型多用途车 Huaxing S7 SUV", break_in=(90, 1500, 5000, "298.00"),
        policies=(("basic", 36, 100000), ("powertrain", 60, 150000), ("electrical", 36, 100000),
                  ("body", 36, 100000), ("wear", 6, 5000)),
        part_suffix="S7", part_price_factor="0.85", sales_share=35, km_per_day=(25, 60),
        company_owned=0, vin_vds="S7C1E", vin_plant="C", engine_prefix="HX15T",
    ),
)

# The parts catalogue per responsible supplier.
# number, 中文, English, coverage group, price, models[, old part[, scrap rate]]
ENGINE_PARTS = (
    ("1000010", "发动机总成", "Engine assembly", "powertrain", "38000.00", ALL, MAJOR),
    ("1003010", "气缸盖", "Cylinder head", "powertrain", "6800.00", ALL),
    ("1003020", "气缸垫", "Cylinder head gasket", "powertrain", "180.00", ALL, SCRAP, "0.05"),
    ("1004010", "活塞连杆组", "Piston and connecting rod set", "powertrain", "1200.00", ALL),
    ("1005010", "曲轴", "Crankshaft", "powertrain", "3900.00", ALL),
    ("1011010", "机油泵", "Oil pump", "powertrain", "540.00", ALL),
    ("1014010", "曲轴后油封", "Rear main oil seal", "powertrain", "45.00", ALL, SCRAP, "0.05"),
    ("1111010", "高压油泵", "High-pressure fuel pump", "powertrain", "5600.00", ALL),
    ("1112010", "喷油器", "Fuel injector", "powertrain", "980.00", ALL),
    ("1118010", "涡轮增压器", "Turbocharger", "powertrain", "4200.00", ALL),
    ("1119010", "中冷器", "Intercooler", "powertrain", "1650.00", ALL),
    ("1012010", "机油滤清器", "Oil filter", "wear", "48.00", ALL, SCRAP, "0.05"),
    ("1105010", "燃油滤清器", "Fuel filter", "wear", "65.00", ALL, SCRAP, "0.05"),
    ("1109010", "空气滤清器滤芯", "Air filter element", "wear", "85.00", ALL, SCRAP, "0.05"),
    ("1025010", "发动机皮带", "Engine drive belt", "wear", "120.00", ALL, SCRAP, "0.10"),
    ("1203010", "消声器", "Muffler", "basic", "780.00", ALL),
    ("1205010", "SCR后处理器", "SCR after-treatment unit", "basic", "12500.00", TRUCKS),
    ("1301010", "散热器", "Radiator", "basic", "1350.00", ALL),
    ("1306010", "节温器", "Thermostat", "basic", "150.00", ALL, SCRAP, "0.10"),
    ("1307010", "水泵", "Water pump", "basic", "620.00", ALL),
    ("1308010", "冷却风扇", "Cooling fan", "basic", "680.00", ALL),
)
DRIVELINE_PARTS = (
    ("1700010", "变速箱总成", "Gearbox assembly", "powertrain", "16000.00", ALL, MAJOR),
    ("1701010", "变速箱输入轴", "Gearbox input shaft", "powertrain", "1500.00", ALL),
    ("1702020", "变速箱油封", "Gearbox oil seal", "powertrain", "38.00", ALL, SCRAP, "0.05"),
    ("1703010", "换挡操纵机构", "Gear shift mechanism", "powertrain", "980.00", ALL),
    ("1601010", "离合器从动盘", "Clutch disc", "wear", "420.00", ALL, SCRAP, "0.10"),
    ("1601020", "离合器压盘", "Clutch pressure plate", "powertrain", "760.00", ALL),
    ("1602010", "离合器分离轴承", "Clutch release bearing", "powertrain", "180.00", ALL),
    ("1608010", "离合器总泵", "Clutch master cylinder", "basic", "260.00", ALL),
    ("2201010", "传动轴总成", "Propeller shaft assembly", "powertrain", "2300.00", ALL),
    ("2201020", "万向节", "Universal joint", "powertrain", "240.00", ALL),
)
ELECTRICAL_PARTS = (
    ("3701010", "发电机", "Alternator", "electrical", "1250.00", ALL),
    ("3708010", "起动机", "Starter motor", "electrical", "1380.00", ALL),
    ("3703010", "蓄电池", "Battery", "electrical", "680.00", ALL, SCRAP, "0.30"),
    ("3610010", "发动机控制单元", "Engine control unit (ECU)", "electrical", "5200.00", ALL),
    ("3611010", "曲轴位置传感器", "Crankshaft position sensor", "electrical", "260.00", ALL),
    ("3612010", "氧传感器", "Oxygen sensor", "electrical", "420.00", SUV),
    ("3612020", "氮氧传感器", "NOx sensor", "electrical", "2800.00", TRUCKS),
    ("3603010", "ABS控制单元", "ABS control unit", "electrical", "3100.00", ALL),
    ("3776010", "车身控制模块", "Body control module (BCM)", "electrical", "1800.00", ALL),
    ("3801010", "组合仪表", "Instrument cluster", "electrical", "1650.00", ALL),
    ("3711010", "前照灯总成", "Headlamp assembly", "electrical", "980.00", ALL),
    ("3716010", "尾灯总成", "Tail lamp assembly", "electrical", "380.00", TRUCKS),
    ("3724010", "发动机线束", "Engine wiring harness", "electrical", "1450.00", ALL),
    ("3735010", "组合开关", "Steering column switch", "electrical", "360.00", UNIVERSAL),
    ("3721010", "电喇叭", "Horn", "electrical", "85.00", UNIVERSAL),
    ("3750010", "倒车雷达传感器", "Parking sensor", "electrical", "180.00", SUV),
    ("5205010", "雨刮电机", "Wiper motor", "electrical", "460.00", ALL),
    ("7901010", "多媒体主机", "Infotainment head unit", "electrical", "2600.00", SUV),
    ("8101010", "空调压缩机", "A/C compressor", "basic", "2100.00", ALL),
    ("5205020", "雨刮片", "Wiper blade", "wear", "45.00", ALL, SCRAP, "0.05"),
    ("3711020", "H7前照灯灯泡", "H7 headlamp bulb", "wear", "35.00", UNIVERSAL, SCRAP, "0.05"),
    ("3722020", "插片保险丝 10A", "Blade fuse 10A", "wear", "2.50", UNIVERSAL, SCRAP, "0.05"),
    ("3722030", "插片保险丝 30A", "Blade fuse 30A", "wear", "3.20", UNIVERSAL, SCRAP, "0.05"),
)
CHASSIS_AND_BODY_PARTS = (
    ("2400010", "后桥总成", "Rear axle assembly", "powertrain", "14500.00", ALL, MAJOR),
    ("2300010", "前桥总成", "Front axle assembly", "powertrain", "9800.00", TRUCKS, MAJOR),
    ("5000010", "驾驶室总成", "Cab assembly", "body", "42000.00", TRUCKS, MAJOR),
    ("2402010", "主减速器", "Final drive", "powertrain", "5200.00", ALL),
    ("3501010", "前制动片", "Front brake pads", "wear", "260.00", ALL, SCRAP, "0.10"),
    ("3501020", "前制动盘", "Front brake disc", "wear", "380.00", ALL, SCRAP, "0.20"),
    ("3502010", "后制动蹄片", "Rear brake shoes", "wear", "240.00", ALL, SCRAP, "0.10"),
    ("3502020", "后制动鼓", "Rear brake drum", "basic", "560.00", TRUCKS),
    ("3505010", "制动总泵", "Brake master cylinder", "basic", "520.00", ALL),
    ("3509010", "空气压缩机", "Air compressor", "basic", "2600.00", TRUCKS),
    ("3519010", "制动气室", "Brake chamber", "basic", "420.00", TRUCKS),
    ("3401010", "转向机总成", "Steering gear assembly", "basic", "3600.00", ALL),
    ("3003010", "转向横拉杆", "Tie rod", "basic", "320.00", ALL),
    ("2902010", "前钢板弹簧", "Front leaf spring", "basic", "1200.00", TRUCKS),
    ("2905010", "减震器", "Shock absorber", "basic", "380.00", ALL),
    ("3103010", "轮毂轴承", "Wheel hub bearing", "basic", "340.00", ALL),
    ("6101010", "前车门总成", "Front door assembly", "body", "2400.00", ALL),
    ("6105010", "车门锁", "Door lock", "body", "220.00", ALL),
    ("8202010", "外后视镜", "Exterior mirror", "body", "560.00", ALL),
    ("5206010", "前风挡玻璃", "Windscreen", "body", "1300.00", ALL),
    ("6800010", "驾驶员座椅", "Driver seat", "body", "2200.00", ALL),
)
PART_CATALOGUE = (
    (ENGINES, ENGINE_PARTS),
    (GEARBOXES, DRIVELINE_PARTS),
    (ELECTRICAL, ELECTRICAL_PARTS),
    (CHASSIS, CHASSIS_AND_BODY_PARTS),
)
PARTS_WITH_PRICE_HISTORY = 30

# code, description (中文 English), standard hours
LABOR_OPERATIONS = (
    ("W0000-01", "故障诊断 Fault diagnosis", "0.50"),
    ("W1000-01", "更换发动机总成 Replace engine assembly", "12.00"),
    ("W1000-02", "发动机拆检 Engine teardown inspection", "8.50"),
    ("W1003-01", "更换气缸盖 Replace cylinder head", "6.50"),
    ("W1003-02", "更换气缸垫 Replace cylinder head gasket", "5.00"),
    ("W1004-01", "更换活塞连杆组 Replace piston and connecting rod set", "9.00"),
    ("W1005-01", "更换曲轴 Replace crankshaft", "10.50"),
    ("W1006-01", "更换凸轮轴 Replace camshaft", "4.50"),
    ("W1011-01", "更换机油泵 Replace oil pump", "3.20"),
    ("W1012-01", "更换机油及机油滤清器 Change engine oil and oil filter", "0.80"),
    ("W1014-01", "更换曲轴后油封 Replace rear crankshaft oil seal", "4.00"),
    ("W1025-01", "更换发动机皮带 Replace engine drive belt", "0.60"),
    ("W1105-01", "更换燃油滤清器 Replace fuel filter", "0.50"),
    ("W1109-01", "更换空气滤清器滤芯 Replace air filter element", "0.30"),
    ("W1111-01", "更换高压油泵 Replace high-pressure fuel pump", "3.50"),
    ("W1112-01", "更换喷油器(单只) Replace fuel injector (one)", "1.20"),
    ("W1118-01", "更换涡轮增压器 Replace turbocharger", "3.00"),
    ("W1119-01", "更换中冷器 Replace intercooler", "1.80"),
    ("W1205-01", "更换SCR后处理器 Replace SCR after-treatment unit", "2.50"),
    ("W1301-01", "更换散热器 Replace radiator", "2.20"),
    ("W1306-01", "更换节温器 Replace thermostat", "1.00"),
    ("W1307-01", "更换水泵 Replace water pump", "2.00"),
    ("W1601-01", "更换离合器片及压盘 Replace clutch disc and pressure plate", "4.50"),
    ("W1602-01", "更换离合器分离轴承 Replace clutch release bearing", "4.00"),
    ("W1700-01", "更换变速箱总成 Replace gearbox assembly", "6.00"),
    ("W1700-02", "变速箱解体大修 Overhaul gearbox", "10.00"),
    ("W1703-01", "调整换挡操纵机构 Adjust gear shift mechanism", "0.80"),
    ("W2201-01", "更换传动轴 Replace propeller shaft", "1.50"),
    ("W2201-02", "更换万向节 Replace universal joint", "1.20"),
    ("W2300-01", "更换前桥总成 Replace front axle assembly", "6.50"),
    ("W2400-01", "更换后桥总成 Replace rear axle assembly", "7.00"),
    ("W2402-01", "更换主减速器 Replace final drive", "4.50"),
    ("W2902-01", "更换钢板弹簧 Replace leaf spring", "2.40"),
    ("W2905-01", "更换减震器(单只) Replace shock absorber (one)", "0.90"),
    ("W3003-01", "更换转向横拉杆并四轮定位 Replace tie rod and align wheels", "1.50"),
    ("W3103-01", "更换轮毂轴承 Replace wheel hub bearing", "1.60"),
    ("W3401-01", "更换转向机 Replace steering gear", "3.00"),
    ("W3501-01", "更换前制动片 Replace front brake pads", "0.80"),
    ("W3501-02", "更换前制动盘 Replace front brake discs", "1.40"),
    ("W3502-01", "更换后制动蹄片 Replace rear brake shoes", "1.50"),
    ("W3509-01", "更换空气压缩机 Replace air compressor", "2.50"),
    ("W3610-01", "更换并刷写发动机控制单元 Replace and flash engine control unit", "1.50"),
    ("W3701-01", "更换发电机 Replace alternator", "1.20"),
    ("W3703-01", "检测并更换蓄电池 Test and replace battery", "0.40"),
    ("W3708-01", "更换起动机 Replace starter motor", "1.30"),
    ("W3724-01", "检修发动机线束 Repair engine wiring harness", "3.00"),
    ("W3801-01", "更换组合仪表 Replace instrument cluster", "1.10"),
    ("W5206-01", "更换前风挡玻璃 Replace windscreen", "2.00"),
    ("W6101-01", "更换前车门总成 Replace front door assembly", "2.50"),
    ("W8101-01", "更换空调压缩机(含加注冷媒) Replace A/C compressor (incl. refrigerant)", "2.80"),
)

# code, description (中文 English), system
FAULT_CODES = (
    ("P0087", "燃油轨压力过低 Fuel rail pressure too low", "engine"),
    ("P0115", "冷却液温度传感器电路故障 Engine coolant temperature sensor circuit", "engine"),
    ("P0217", "发动机过热 Engine overheat condition", "engine"),
    ("P0299", "涡轮增压不足 Turbocharger underboost", "engine"),
    ("P0301", "一缸失火 Cylinder 1 misfire detected", "engine"),
    ("P0335", "曲轴位置传感器电路故障 Crankshaft position sensor circuit", "engine"),
    ("P0401", "EGR流量不足 EGR flow insufficient", "engine"),
    ("P0524", "机油压力过低 Engine oil pressure too low", "engine"),
    ("P20EE", "SCR催化器效率低于限值 SCR NOx catalyst efficiency below threshold", "engine"),
    ("P0700", "变速箱控制系统故障 Transmission control system malfunction", "transmission"),
    ("P0715", "输入轴转速传感器电路故障 Input shaft speed sensor circuit", "transmission"),
    ("P0730", "传动比不正确 Incorrect gear ratio", "transmission"),
    ("P0868", "变速箱油压过低 Transmission fluid pressure low", "transmission"),
    ("P0562", "系统电压过低 System voltage low", "electrical"),
    ("P0620", "发电机控制电路故障 Generator control circuit malfunction", "electrical"),
    ("B1318", "蓄电池电压过低 Battery voltage low", "electrical"),
    ("B1342", "控制单元内部故障 Control unit internal fault", "electrical"),
    ("U0100", "与发动机控制单元通讯丢失 Lost communication with ECM", "electrical"),
    ("U0101", "与变速箱控制单元通讯丢失 Lost communication with TCM", "electrical"),
    ("U0121", "与ABS控制单元通讯丢失 Lost communication with ABS control module", "electrical"),
    ("U0140", "与车身控制模块通讯丢失 Lost communication with body control module", "electrical"),
    ("B1001", "驾驶员侧门锁执行器电路故障 Driver door lock actuator circuit", "body"),
    ("B1205", "电动车窗电机过流 Power window motor overcurrent", "body"),
    ("B1600", "外后视镜调节电路故障 Exterior mirror adjustment circuit", "body"),
    ("B2205", "雨刮电机电路故障 Wiper motor circuit", "body"),
    ("C0455", "转向角传感器故障 Steering angle sensor malfunction", "chassis"),
    ("C1025", "悬架高度传感器故障 Suspension height sensor fault", "chassis"),
    ("C0035", "左前轮速传感器电路故障 Left front wheel speed sensor circuit", "brakes"),
    ("C0040", "右前轮速传感器电路故障 Right front wheel speed sensor circuit", "brakes"),
    ("C0110", "ABS泵电机电路故障 ABS pump motor circuit", "brakes"),
)

VEHICLE_COUNT = 300
RECENTLY_SOLD = 45  # sold in the last 90 days: break-in maintenance is possible
SOLD_OVER_3_YEARS_AGO = 60  # out of basic coverage
VIN_WMI = "LHX"  # VIN positions 1-3: China (L), Huaxing
VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # VIN position 10, from 2010 in a 30-year cycle

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯邓曹彭"
GIVEN_NAME_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌宁浩宇鹏辉俊"
COMPANY_NAMES = ("顺达", "恒通", "远航", "鑫源", "安泰", "宏运", "通达", "万里", "捷运", "金马")
COMPANY_KINDS = ("物流有限公司", "运输有限公司", "货运有限公司", "供应链有限公司")
MOBILE_PREFIXES = ("130", "131", "135", "136", "138", "139", "150", "152", "158", "177", "186",
                   "188", "189", "199")

# fmt: on


def add_organisations(demo: Demo) -> None:
    demo.oem = set_up(OEM_NAME).oem  # what `flask setup` makes, named as the demo's OEM
    demo.stations = [
        Station(
            code=code,
            name=name,
            region=region,
            labor_rate=Decimal(labor),
            km_rate=Decimal(km),
            parts_handling_rate=Decimal(handling),
        )
        for code, name, region, labor, km, handling in STATIONS
    ]
    demo.suppliers = {
        code: Supplier(
            code=code,
            name=name,
            recovery_share=Decimal(share),
            labor_hours_cap=Decimal(cap) if cap else None,
            handling_fee_rate=Decimal(fee),
        )
        for code, name, share, cap, fee in SUPPLIERS
    }
    demo.add([*demo.stations, *demo.suppliers.values()])
    db.session.commit()


def add_vehicle_models(demo: Demo) -> None:
    for spec in MODELS:
        days, min_km, max_km, price = spec.break_in
        model = VehicleModel(
            code=spec.code,
            name=spec.name,
            break_in_days=days,
            break_in_min_km=min_km,
            break_in_max_km=max_km,
            break_in_price=Decimal(price),
        )
        model.policies = [WarrantyPolicy(group=g, months=m, km=km) for g, m, km in spec.policies]
        demo.models[spec.code] = model
    demo.add(list(demo.models.values()))
    db.session.commit()


def add_parts(demo: Demo) -> None:
    rng = demo.rng
    factors = {spec.part_suffix: Decimal(spec.part_price_factor) for spec in MODELS}
    for supplier_code, rows in PART_CATALOGUE:
        supplier = demo.suppliers[supplier_code]
        for kind in (PartKind(*row) for row in rows):
            for suffix in kind.models or (None,):
                factor = factors[suffix] if suffix else Decimal(1)
                jitter = Decimal(rng.randint(95, 105)) / 100
                price = round_money(Decimal(kind.price) * factor * jitter)
                demo.parts.append(_part(kind, supplier, suffix, price))
    for part in rng.sample(demo.parts, PARTS_WITH_PRICE_HISTORY):
        _add_price_change(demo, part)
    demo.add(demo.parts)
    db.session.commit()
    add_part_models(demo)


def add_part_models(demo: Demo) -> None:
    """A model's variant of a part (1000010-H9) fits that model only (适用车型, the
    `part_models` import kind); a universal part lists none and fits every model."""
    by_suffix = {spec.part_suffix: demo.models[spec.code] for spec in MODELS}
    fits = [
        PartModel(part=part, model=by_suffix[part.number.rsplit("-", 1)[1]])
        for part in demo.parts
        if "-" in part.number and part.number.rsplit("-", 1)[1] in by_suffix
    ]
    demo.add(fits)
    db.session.commit()


def _part(kind: PartKind, supplier: Supplier, model_suffix: str | None, price: Decimal) -> Part:
    number, name = kind.number, f"{kind.zh} {kind.en}"
    if model_suffix:
        number, name = f"{number}-{model_suffix}", f"{name} ({model_suffix})"
    disposition = {
        MAJOR: Disposition.RETURN_TO_SUPPLIER,
        SCRAP: Disposition.SCRAP_AT_STATION,
        TO_OEM: Disposition.RETURN_TO_OEM,
    }[kind.old_part]
    return Part(
        number=number,
        name=name,
        group=kind.group,
        supplier=supplier,
        is_major_assembly=kind.old_part == MAJOR,
        disposition=disposition,
        scrap_rate=Decimal(kind.scrap_rate),
        prices=[PartPrice(unit_price=price)],
    )


def _add_price_change(demo: Demo, part: Part) -> None:
    """The part's current price holds since a recent date; before it an older price applied."""
    current = part.prices[0]
    changed_on = demo.today - timedelta(days=demo.rng.randint(30, 540))
    old_price = round_money(current.unit_price * Decimal(demo.rng.randint(85, 98)) / 100)
    current.valid_from = changed_on
    part.prices.insert(0, PartPrice(unit_price=old_price, valid_to=changed_on - timedelta(days=1)))


def add_labor_operations(demo: Demo) -> None:
    demo.labor_operations = [
        LaborOperation(code=code, description=description, standard_hours=Decimal(hours))
        for code, description, hours in LABOR_OPERATIONS
    ]
    demo.add(demo.labor_operations)
    db.session.commit()


def add_fault_codes(demo: Demo) -> None:
    demo.fault_codes = [
        FaultCode(code=code, description=description, system=system)
        for code, description, system in FAULT_CODES
    ]
    demo.add(demo.fault_codes)
    db.session.commit()


def add_vehicles(demo: Demo) -> None:
    """Vehicles sold over the last four years, numbered in production order per model."""
    rng, today = demo.rng, demo.today
    sales = []
    for age in _days_since_sale(rng, today):
        spec = rng.choices(MODELS, weights=[spec.sales_share for spec in MODELS])[0]
        sale_date = today - timedelta(days=age)
        production_date = sale_date - timedelta(days=rng.randint(5, 55))
        sales.append((production_date, sale_date, spec))
    sales.sort(key=lambda sale: (sale[0], sale[2].code))
    serials = dict.fromkeys((spec.code for spec in MODELS), 100000)
    for production_date, sale_date, spec in sales:
        serials[spec.code] += 1
        demo.vehicles.append(_vehicle(demo, spec, serials[spec.code], production_date, sale_date))
    demo.add(demo.vehicles)
    db.session.commit()


def _days_since_sale(rng: random.Random, today: date) -> list[int]:
    """Some vehicles new enough for break-in maintenance, some out of basic coverage."""
    oldest = (today - date(today.year - 4, 3, 1)).days  # produced in the last four years
    in_between = VEHICLE_COUNT - RECENTLY_SOLD - SOLD_OVER_3_YEARS_AGO
    spans = (
        (RECENTLY_SOLD, 3, 90),
        (in_between, 91, 3 * 365),
        (SOLD_OVER_3_YEARS_AGO, 3 * 366 + 10, oldest),
    )
    return [rng.randint(low, high) for n, low, high in spans for _ in range(n)]


def _vehicle(
    demo: Demo, spec: ModelSpec, serial: int, production_date: date, sale_date: date
) -> Vehicle:
    rng = demo.rng
    year_code = VIN_YEAR_CODES[(production_date.year - 2010) % 30]
    vin = with_check_digit(f"{VIN_WMI}{spec.vin_vds}0{year_code}{spec.vin_plant}{serial:06d}")
    low, high = spec.km_per_day
    days_in_service = (demo.today - sale_date).days
    return Vehicle(
        vin=vin,
        model=demo.models[spec.code],
        engine_no=f"{spec.engine_prefix}{production_date:%y}{rng.randint(0, 999999):06d}",
        production_date=production_date,
        sale_date=sale_date,
        selling_station=rng.choice(demo.stations),
        owner_name=_owner_name(rng, spec),
        owner_phone=_mobile_number(rng),
        odometer_km=rng.randint(5, 60) + days_in_service * rng.randint(low, high),
    )


def _owner_name(rng: random.Random, spec: ModelSpec) -> str:
    if rng.randrange(100) < spec.company_owned:
        return rng.choice(COMPANY_NAMES) + rng.choice(COMPANY_KINDS)
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN_NAME_CHARS, k=rng.choice((1, 2))))


def _mobile_number(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
