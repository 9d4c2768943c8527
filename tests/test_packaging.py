"""The wheel is a complete install: compiled catalogues, templates, static files, migrations and
the `wsgi` / `config` modules, built without `make` from a tree that has no `.mo` file."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from babel.support import Translations

ROOT = Path(__file__).resolve().parent.parent
# What a clean clone does not have: build output, caches, the developer's venv and instance.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.mo", "instance",
    "test-artifacts", ".pytest_cache", ".ruff_cache", "node_modules",
)  # fmt: skip


def build_wheel(source: Path, out: Path) -> Path:
    """`pip wheel SOURCE --no-deps`: what an operator's `pip install .` builds."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("warranty_portal-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source") / "portal-src"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    assert not list(source.rglob("*.mo"))
    return build_wheel(source, tmp_path_factory.mktemp("wheel"))


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
