"""Building the wheel an operator installs, from a copy of the source without build output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a clean clone does not have: build output, caches, the developer's venv and instance.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.mo", "instance",
    "test-artifacts", ".pytest_cache", ".ruff_cache", "node_modules",
)  # fmt: skip


def build_wheel(workdir: Path) -> Path:
    """`pip wheel . --no-deps` on a clean copy of the checkout (no `.mo` file in it): what an
    operator's `pip install .` builds. Answers the wheel's path, in `workdir`."""
    source = workdir / "portal-src"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    assert not list(source.rglob("*.mo"))
    out = workdir / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("warranty_portal-*.whl")
    return wheel
