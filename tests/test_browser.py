"""Smoke test in a real browser: every role signs in through the form, in English and Chinese.

Full-page screenshots land in the test's tmp_path (and in $SCREENSHOT_DIR when it is set).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser_support import (  # noqa: F401 - fixtures
    CHROMIUM,
    browser,
    db_session,
    live_server,
    save_screenshot,
)

pytestmark = pytest.mark.browser

# role -> (home path, heading in English, heading in Chinese)
HOMES = {
    "station": ("/dealer/", "My claims", "我的索赔单"),
    "auditor": ("/oem/review", "Review queue", "审核队列"),
    "finance": ("/settlement/", "Settlement", "结算"),
    "supplier": ("/settlement/chargebacks", "Chargebacks", "追偿单"),
    "admin": ("/admin/masterdata/", "Master data", "基础数据"),
}


def test_chromium_is_installed():
    # CI installs Debian's chromium; a machine without it fails here rather than skipping.
    assert Path(CHROMIUM).is_file(), (
        f"Chromium is not installed at {CHROMIUM}: apt-get install chromium (as .ci/run does)"
        " or set CHROMIUM to a Chromium binary"
    )


@pytest.fixture
def page(browser, live_server):  # noqa: F811 - the fixtures imported above
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"{r.status} {r.request.method} {r.url}"),
    )
    yield page
    context.close()
    # A page that logs an error, breaks its script, or loads a missing asset fails the test
    # (this is how a style or script blocked by the Content-Security-Policy shows up).
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_signs_in_and_sees_its_home_in_english_and_chinese(
    page,
    live_server,  # noqa: F811
    tmp_path,
    role,
):
    path, heading_en, heading_zh = HOMES[role]

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    if role == "station":
        save_screenshot(page, tmp_path, "login-en")

    page.get_by_label("Username").fill(live_server.usernames[role])
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(live_server(path))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading_en)
    expect(page.get_by_test_id("lang-switch")).to_have_text("中文")
    save_screenshot(page, tmp_path, f"{role}-en")

    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_url(live_server(path))  # the switch comes back to the same page
    expect(page.get_by_role("heading", level=1)).to_have_text(heading_zh)
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    expect(page.get_by_test_id("lang-switch")).to_have_text("English")
    save_screenshot(page, tmp_path, f"{role}-zh_CN")

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    expect(page.get_by_role("alert")).to_contain_text("您已退出登录")
    if role == "station":
        save_screenshot(page, tmp_path, "login-zh_CN")

    # Signed out means signed out: the home page sends the browser back to the sign-in form.
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login\?next="))


def use_language(page, lang: str) -> None:
    """Click the language switch unless the page is in `lang` ("en" or "zh-CN") already."""
    if page.locator("html").get_attribute("lang") != lang:
        page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def test_an_admin_creates_a_user_in_chinese_who_can_then_sign_in(
    page,
    live_server,  # noqa: F811
    tmp_path,
):
    page.goto("/login")
    page.get_by_label("Username").fill(live_server.usernames["admin"])
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()
    use_language(page, "zh-CN")  # the account may remember Chinese from an earlier test

    page.locator("#mainnav").get_by_role("link", name="用户", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("用户")
    expect(page.get_by_label("角色")).to_have_value("")  # the filter starts at "全部角色"
    page.get_by_role("link", name="新建用户").click()
    page.get_by_label("用户名").fill("station_new")
    page.get_by_label("姓名").fill("王芳")
    page.get_by_label("角色").select_option("station")
    page.get_by_label("单位代码").fill("ST-B")
    page.get_by_label("初始密码").fill("Brand-new-2026")
    save_screenshot(page, tmp_path, "admin-new-user-zh_CN")
    page.get_by_role("button", name="创建用户").click()

    expect(page.get_by_role("alert")).to_contain_text("已创建用户 station_new。")
    expect(page.get_by_role("row").filter(has_text="station_new")).to_contain_text("ST-B")
    save_screenshot(page, tmp_path, "admin-users-zh_CN")
    page.get_by_role("button", name="退出登录").click()

    # Real forms with CSRF tokens all the way: the new user signs in on the Chinese login page.
    page.get_by_label("用户名").fill("station_new")
    page.get_by_label("密码").fill("Brand-new-2026")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(live_server("/dealer/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的索赔单")
    expect(page.get_by_test_id("whoami")).to_contain_text("王芳 · Station B")
