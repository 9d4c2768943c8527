"""The auditor's announcements (信息发布): to all stations, to regions or to a list, over half a
year; some of the stations addressed have read each one."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.announcements import operations as announcements
from portal.announcements.operations import record_read
from portal.demo.campaigns import RECALL_CODE
from portal.demo.claims.stories import Text as T
from portal.demo.clock import act, local_moment, quiet_notifications, run_in_order
from portal.demo.context import Demo
from portal.extensions import db
from portal.masterdata.campaigns import Campaign
from portal.oem.models import Announcement

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


RECALL_LINK_NOTE = T(
    "贵站售出或维修过的受影响车辆列在“活动作业”中，请通知车主进站。",
    "Your affected vehicles (sold or serviced by you) are listed under Campaign work: call "
    "their owners in.",
)


def _publish(auditor, audience, title: str, body: str, campaign=None) -> Announcement:
    if audience == "all":
        return announcements.publish(
            auditor,
            title=title,
            body=body,
            audience=announcements.Audience.ALL,
            campaign=campaign,
        )
    if all(code.startswith("ST-") for code in audience):
        return announcements.publish(
            auditor,
            title=title,
            body=body,
            audience=announcements.Audience.STATIONS,
            station_codes=list(audience),
        )
    return announcements.publish(
        auditor,
        title=title,
        body=body,
        audience=announcements.Audience.REGIONS,
        region_names=list(audience),
    )


def add_announcements(demo: Demo) -> None:
    """信息发布: the auditor publishes, and some of the stations addressed have read each one.

    The first demo station has read the older announcements and not the newest ones, so its
    inbox shows both; no announcement is read by every station it went to.
    """
    rng, auditor, first = demo.rng, demo.users["auditor"], demo.stations[0]
    recall = db.session.scalar(sa.select(Campaign).where(Campaign.code == RECALL_CODE))
    readings = []
    with quiet_notifications():
        for days_ago, audience, title_text, body_text in ANNOUNCEMENTS:
            title, body = title_text.both, f"{body_text.zh}\n{body_text.en}"
            # The recall's announcement links each station to its own affected vehicles.
            campaign = recall if title_text.en.startswith("Recall:") else None
            if campaign is not None:
                body += f"\n{RECALL_LINK_NOTE.zh}\n{RECALL_LINK_NOTE.en}"
            published = local_moment(demo.today - timedelta(days=days_ago), rng.randint(540, 1020))
            announcement = act(
                published,
                lambda a=audience, t=title, b=body, c=campaign: _publish(auditor, a, t, b, c),
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
                readings.append((published + timedelta(minutes=minutes), announcement, station))
        run_in_order(
            (moment, lambda a=announcement, u=demo.org_users[station.code]: record_read(a, u))
            for moment, announcement, station in sorted(readings, key=lambda r: (r[0], r[1].id))
        )
