"""Build hook: the wheel carries the compiled message catalogues.

Everything else is in pyproject.toml. The `.mo` files are build output (never committed), so
`build_py` compiles each `portal/translations/<locale>/LC_MESSAGES/messages.po` next to its copy
in the build directory: `pip install .` or a built wheel serves Chinese without `make`.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGUES = "portal/translations/*/LC_MESSAGES/messages.po"


class BuildPyWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        for mo in self._compile_catalogues():
            self.announce(f"compiled {mo}", level=2)

    def _compile_catalogues(self) -> list[str]:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        written = []
        for po in sorted(Path(__file__).resolve().parent.glob(CATALOGUES)):
            relative = po.relative_to(Path(__file__).resolve().parent)
            target = Path(self.build_lib) / relative.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source)
            with target.open("wb") as out:
                write_mo(out, catalog, use_fuzzy=False)  # as `pybabel compile`: no fuzzy entries
            written.append(str(target))
        return written

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        root = Path(__file__).resolve().parent
        mos = [
            str(Path(self.build_lib) / po.relative_to(root).with_suffix(".mo"))
            for po in root.glob(CATALOGUES)
        ]
        return outputs + [mo for mo in mos if mo not in outputs]


setup(cmdclass={"build_py": BuildPyWithCatalogues})
