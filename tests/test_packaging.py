"""The wheel is a complete install: compiled catalogues, templates, static files, migrations and
the `wsgi` / `config` modules, built without `make` from a tree that has no `.mo` file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from babel.support import Translations

from tests.packaging_support import ROOT, build_wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def names(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_carries_the_chinese_catalogue_compiled_from_the_po(wheel, names):
    mo = "portal/translations/zh_Hans_CN/LC_MESSAGES/messages.mo"
    assert mo in names
    with zipfile.ZipFile(wheel) as archive:
        translations = Translations(io.BytesIO(archive.read(mo)))
    assert translations.gettext("Sign in") == "登录"


def test_the_wheel_carries_the_templates_and_static_files(names):
    source_templates = {
        str(path.relative_to(ROOT)) for path in (ROOT / "portal").rglob("templates/**/*.html")
    }
    assert source_templates and source_templates <= names
    assert {"portal/templates/base.html", "portal/templates/auth/login.html"} <= names
    source_static = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "portal" / "static").rglob("*")
        if path.is_file()
    }
    assert source_static and source_static <= names


def test_the_wheel_carries_every_migration_and_alembics_files(names):
    revisions = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "portal" / "migrations" / "versions").glob("*.py")
    }
    assert revisions and revisions <= names
    assert {
        "portal/migrations/env.py",
        "portal/migrations/alembic.ini",
        "portal/migrations/script.py.mako",
    } <= names


def test_the_wheel_carries_the_entry_point_and_the_settings_but_no_bytecode(names):
    assert {"wsgi.py", "config.py", "portal/__init__.py"} <= names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert not [name for name in names if name.startswith("tests/")]
