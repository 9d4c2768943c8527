"""Browser tests: the portal on a live server with its own database, driven by Debian's Chromium.

A browser test module imports the fixtures it uses:

    from tests.browser_support import browser, db_session, live_server  # noqa: F401

`db_session` replaces the rolled-back test transaction of tests/conftest.py for that module: the
live server answers from another thread, so it works on a database of its own (a fresh PostgreSQL
database when PostgreSQL is reachable, else a SQLite file), migrated to head, seeded with
`factories.World`, and committed. CSRF protection is on, as in production.

Chromium is never downloaded: the tests use /usr/bin/chromium (Debian's package `chromium`,
installed by .ci/run), or the browser named by the environment variable CHROMIUM. Without it the
tests fail; they do not skip.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests import factories
from tests.conftest import fresh_database_url, migrate_to_head, test_config

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@dataclass
class LiveServer:
    url: str
    app: object
    usernames: dict[str, str]
    password: str = factories.PASSWORD

    def __call__(self, path: str = "/") -> str:
        return self.url + path


def _on_postgres_server(url: str, statement: str) -> None:
    """Run `statement` (CREATE / DROP DATABASE) on the server of `url`, outside a transaction."""
    admin_url = sa.make_url(url).set(database="postgres")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(statement))
    admin.dispose()


def _sibling_postgres_database(url: str, name: str) -> str:
    """A fresh database `name` on the server of `url` (TEST_DATABASE_URL is the suite's own)."""
    _on_postgres_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _on_postgres_server(url, f'CREATE DATABASE "{name}"')
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    name = sa.make_url(url).database
    _on_postgres_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def live_database_url(tmp_dir: Path) -> str:
    """A new, empty database for the live server, never the suite's rolled-back one."""
    name = f"portal_browser_{os.getpid()}"  # concurrent runs on one server never collide
    wanted = os.environ.get("TEST_DATABASE_URL", "")
    if wanted.startswith("postgresql"):
        return _sibling_postgres_database(wanted, name)
    if wanted and wanted != "sqlite":
        return f"sqlite:///{tmp_dir}/{name}.db"
    return fresh_database_url(name, tmp_dir)


@pytest.fixture(autouse=True)
def db_session() -> None:
    """Overrides the conftest fixture: no shared test transaction while the live server runs."""
    return None


@contextmanager
def serving(tmp_dir: Path, **config) -> Iterator[LiveServer]:
    """The portal on a live server thread with a fresh, migrated, seeded database; `config`
    overrides the test configuration (say REDIS_URL, for a module whose jobs go to a worker)."""
    from portal import create_app
    from portal.extensions import db
    from tests.i18n_support import compile_catalogs, forget_loaded_catalogs

    url = live_database_url(tmp_dir)
    app = create_app(test_config(url, WTF_CSRF_ENABLED=True, TESTING=False, **config))
    if compile_catalogs():
        forget_loaded_catalogs(app)
    migrate_to_head(app)
    with app.app_context():
        world = factories.World.build()
        usernames = dict(world.usernames)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, usernames)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()
        if url.startswith("postgresql"):
            _drop_postgres_database(url)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}. Install Debian's package "
            "(apt-get install chromium, as .ci/run does) or point CHROMIUM at a Chromium binary; "
            "the browser tests never download one.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def save_screenshot(page, directory: Path, name: str) -> Path:
    """A full-page PNG under `directory`, copied to $SCREENSHOT_DIR when that is set."""
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    extra = os.environ.get("SCREENSHOT_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
    return path


@pytest.fixture
def page(browser, live_server):
    """A page on the live server; a console error, a page error (a script or style blocked by
    the Content-Security-Policy, say) or a failed request fails the test."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1360, "height": 900}
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
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


def sign_in(page, live_server: LiveServer, who: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(live_server.usernames[who])
    page.get_by_label("Password").fill(live_server.password)
    page.get_by_role("button", name="Sign in").click()


def live_world():
    """The live server's seeded organisations as a `factories.World` (in its app context)."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.masterdata.models import Station, Supplier
    from tests import factories

    by_code = {
        org.code: org
        for model in (Station, Supplier)
        for org in db.session.scalars(sa.select(model))
    }
    return factories.World(
        oem=factories.OemFactory(),
        stations=[by_code["ST-A"], by_code["ST-B"]],
        suppliers=[by_code["SU-A"], by_code["SU-B"]],
    )
