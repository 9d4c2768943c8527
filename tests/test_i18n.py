"""English and Simplified Chinese: every string translated, and the language follows the user."""

from __future__ import annotations

import pytest

from tests import i18n_support

ZH_MARKER = '<html lang="zh-CN">'
EN_MARKER = '<html lang="en">'


@pytest.fixture(scope="module", autouse=True)
def compiled_translations(app):
    """The .mo files are current; a catalogue cached before they were compiled is dropped."""
    if i18n_support.compile_catalogs():
        i18n_support.forget_loaded_catalogs(app)


@pytest.fixture(scope="module")
def extracted():
    return i18n_support.extract_messages()


@pytest.mark.parametrize("locale", i18n_support.LOCALES)
def test_every_string_in_the_source_has_a_translation(extracted, locale):
    catalog = i18n_support.read_catalog(locale)
    missing = []
    for key, found in sorted(extracted.items()):
        message = catalog.get(found.msgid, context=found.context)
        if message is None or not i18n_support.is_translated(message):
            state = "fuzzy" if message is not None and message.fuzzy else "missing"
            missing.append(f"  [{state}] {key!r}  ({', '.join(found.locations[:3])})")
    assert not missing, (
        f"{len(missing)} message(s) have no {locale} translation. Run `make messages`, fill in"
        f" {i18n_support.po_path(locale).relative_to(i18n_support.ROOT)},"
        " then `make translations`:\n" + "\n".join(missing)
    )


def test_the_extraction_finds_the_strings_of_python_code_and_templates(extracted):
    # Guards the guard: a broken babel.cfg or keyword list would make the test above vacuous.
    assert "Sign in" in extracted  # auth/login.html and auth/forms.py (_l)
    assert "Please sign in to see this page." in extracted  # portal/__init__.py (_l)
    assert "Wrong username or password, or the account is disabled." in extracted  # gettext
    assert "%(num)d record" in extracted  # ngettext in _macros.html


@pytest.mark.parametrize("locale", i18n_support.LOCALES)
def test_chinese_has_a_single_plural_form(locale):
    catalog = i18n_support.read_catalog(locale)
    assert catalog.num_plurals == 1
    assert catalog.plural_expr == "0"
    for message in catalog:
        if message.pluralizable:
            assert len(message.string) == 1, message.id


@pytest.mark.parametrize("locale", i18n_support.LOCALES)
def test_translations_keep_the_placeholders_of_their_message(locale):
    wrong = []
    for message in i18n_support.read_catalog(locale):
        if not message.id or not i18n_support.is_translated(message):
            continue
        if not message.python_format:
            continue  # no formatting is applied: a "%" is just a percent sign
        if message.pluralizable:
            # One Chinese form stands for the singular and the plural: it takes the plural's.
            expected = i18n_support.placeholders(message.id[1])
            strings = message.string
        else:
            expected = i18n_support.placeholders(message.id)
            strings = (message.string,)
        for string in strings:
            got = i18n_support.placeholders(string)
            if got != expected:
                wrong.append(f"  {message.id!r}: expected {expected}, translation has {got}")
    assert not wrong, "translations whose placeholders differ from the message's:\n" + "\n".join(
        wrong
    )


def test_the_language_switch_renders_pages_in_chinese_and_back(client):
    page = client.get("/login").get_data(as_text=True)
    assert EN_MARKER in page
    assert "Sign in" in page

    response = client.post("/lang/zh_CN", data={"next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert ZH_MARKER in page
    assert "登录" in page
    assert "保修索赔平台" in page
    assert "Sign in" not in page
    assert 'data-testid="lang-switch"' in page
    assert "English</button>" in page  # the switch offers the other language

    client.post("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert EN_MARKER in page
    assert "Sign in" in page
    assert "登录" not in page


def test_a_user_keeps_the_chosen_language_on_the_next_sign_in(world, login_as, db_session):
    client = login_as("station")
    client.post("/lang/zh_CN")
    page = client.get("/dealer/").get_data(as_text=True)
    assert ZH_MARKER in page
    assert "我的索赔单" in page
    assert "退出登录" in page
    user = world.users["station"]
    db_session.refresh(user)
    assert user.locale == "zh_CN"

    client.post("/logout")
    client = login_as("station")
    page = client.get("/dealer/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ZH_MARKER in page


def test_an_unknown_language_is_ignored(client):
    response = client.post("/lang/xx")
    assert response.status_code == 302
    assert EN_MARKER in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept_language", "marker"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", ZH_MARKER),
        ("zh", ZH_MARKER),
        ("en-US,en;q=0.9", EN_MARKER),
        ("de-DE", EN_MARKER),
    ],
)
def test_the_browser_language_is_the_default(client, accept_language, marker):
    page = client.get("/login", headers={"Accept-Language": accept_language})
    assert marker in page.get_data(as_text=True)


def test_a_chosen_language_wins_over_the_browser_language(client):
    client.post("/lang/en")
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert EN_MARKER in page


def test_form_errors_are_in_chinese_too(client):
    client.post("/lang/zh_CN")
    page = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "该字段是必填字段。" in page  # WTForms' own catalogue, through Flask-WTF


def test_flashed_messages_are_translated(client, world):
    client.post("/lang/zh_CN")
    page = client.post(
        "/login", data={"username": "station_a", "password": "wrong"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "用户名或密码错误，或账号已停用。" in page


def test_signing_out_keeps_the_language(client, world, login_as):
    client = login_as("auditor")
    client.post("/lang/zh_CN")
    page = client.post("/logout", follow_redirects=True).get_data(as_text=True)
    assert ZH_MARKER in page
    assert "您已退出登录。" in page
