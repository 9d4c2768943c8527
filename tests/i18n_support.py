"""The message catalogues as tests see them: extracted from the source, read from the .po files.

The extraction uses the same mapping (babel.cfg) and keywords (BABEL_KEYWORDS in the Makefile) as
`make messages`, so a string the tests call untranslated is one `make messages` would collect.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"
# The catalogues we ship; `zh_CN` in the app is read by Babel as zh_Hans_CN.
LOCALES = ("zh_Hans_CN",)

# A printf placeholder: %(name)s, %(n)d, %s, %.2f... (`%%` is a literal percent sign).
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?([diouxXeEfFgGcrsa%])")


@dataclass(frozen=True)
class Extracted:
    msgid: str | tuple[str, str]
    locations: tuple[str, ...]
    # pgettext's context: the same English word said in another sense ("Open" of a campaign,
    # 进行中, is not "Open" of a chargeback, 待处理).
    context: str | None = None

    @property
    def key(self) -> str:
        return self.msgid[0] if isinstance(self.msgid, tuple) else self.msgid


def babel_keywords() -> dict:
    """gettext's default keywords plus BABEL_KEYWORDS from the Makefile (`-k _l -k ...`)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^BABEL_KEYWORDS\s*:?=(.*)$", makefile, re.MULTILINE)
    assert found, "the Makefile has no BABEL_KEYWORDS line"
    specs = re.findall(r"-k\s+(\S+)", found.group(1))
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(specs))
    return keywords


def extract_messages() -> dict[str, Extracted]:
    """Every user-facing string in portal/, by msgid (the singular for plural messages); one
    said with a context (pgettext) by `context` + "\x04" + msgid, as gettext keys it."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, filename=str(ROOT / "babel.cfg"))
    found: dict[str, Extracted] = {}
    results = extract_from_dir(
        str(ROOT), method_map, options_map, keywords=babel_keywords(), strip_comment_tags=True
    )
    for filename, lineno, message, _comments, context in results:
        key = message[0] if isinstance(message, tuple) else message
        if not key:
            continue
        entry = key if context is None else f"{context}\x04{key}"
        where = f"{filename}:{lineno}"
        previous = found.get(entry)
        if previous is not None:
            found[entry] = Extracted(previous.msgid, (*previous.locations, where), context)
        else:
            found[entry] = Extracted(message, (where,), context)
    return found


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(locale: str) -> Catalog:
    with open(po_path(locale), "rb") as fh:
        return read_po(fh, locale=locale)


def is_translated(message: Message) -> bool:
    if message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(strings) and all(s and s.strip() for s in strings)


def placeholders(text: str) -> list[str]:
    """The placeholders of `text`, sorted: ['%(name)s', '%d'...] (literal `%%` left out).

    A `%` that starts no placeholder (say "10%" where the message has "10%%") is listed as
    "stray %": it would make the formatting raise at run time.
    """
    found = []
    position = 0
    while (position := text.find("%", position)) != -1:
        match = PLACEHOLDER.match(text, position)
        if match is None:
            found.append("stray %")
            position += 1
            continue
        name, conversion = match.groups()
        if conversion != "%":
            found.append(f"%({name}){conversion}" if name else f"%{conversion}")
        position = match.end()
    return sorted(found)


def compile_catalogs() -> list[Path]:
    """Compile every .po whose .mo is missing or older, as `make translations` does.

    `make test` has compiled them already; this keeps a bare `pytest` after editing a .po honest.
    Each .mo is written to a temporary file and renamed, so concurrent runs never read half a file.
    """
    written = []
    for locale in LOCALES:
        po = po_path(locale)
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalog = read_catalog(locale)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as fh:
            write_mo(fh, catalog)
        os.replace(tmp, mo)
        written.append(mo)
    return written


def forget_loaded_catalogs(app) -> None:
    """Drop the catalogues Flask-Babel has cached (its cache lives on the shared extension)."""
    from portal.extensions import babel

    with app.app_context():
        babel.domain_instance.cache.clear()
