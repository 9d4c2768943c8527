"""What a page says to its reader, and the ways it can say it wrong (issue 15, "Language and
words"): a code instead of a label, an amount without its thousands separators, a day as ISO
text instead of the reader's locale, English left in a Chinese page.

`visible_text` takes the text a reader sees (text nodes, titles, placeholders, the labels of
buttons), not the attributes pages keep codes in (`data-status="partially_approved"`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from tests import i18n_support

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# A code: lower-case words joined by underscores (`partially_approved`, `labor_hours`).
SNAKE_CASE = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")
# An amount without its thousands separators: 5658.93 (a formatted one reads 5,658.93).
RAW_MONEY = re.compile(r"(?<![\d,.\w-])\d{4,}\.\d{2}(?![\d%])")
# A day written as ISO text (2026-12-05): pages write days in the reader's locale
# (Dec 5, 2026 / 2026年12月5日); ISO stays in inputs, URLs, attributes and exports.
ISO_DAY = re.compile(r"(?<![\w-])(?:19|20)\d\d-[01]\d-[0-3]\d(?![\w-])")
# Three English words in a row with no Chinese around them.
ENGLISH_WORDS = re.compile(r"[A-Za-z][a-z]+(?:[ ,'-]+[A-Za-z][a-z]+){2,}")

SKIPPED_ELEMENTS = {"script", "style", "template", "noscript", "svg"}
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.code_depth = 0
        self.chunks: list[tuple[str, bool]] = []  # (text, inside a <code>/<kbd>/<samp>)

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS:
            self.skipping += 1
        if tag in ("code", "kbd", "samp"):
            self.code_depth += 1
        if self.skipping:
            return
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.chunks.append((value, False))

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS and self.skipping:
            self.skipping -= 1
        if tag in ("code", "kbd", "samp") and self.code_depth:
            self.code_depth -= 1

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.chunks.append((" ".join(data.split()), self.code_depth > 0))


def visible_text(html: str) -> list[str]:
    """The page's visible text, a chunk per text node or visible attribute; text a page shows
    as code on purpose (`<code>`: a CSV column to type, a username) left out."""
    parser = _Text()
    parser.feed(html)
    return [text for text, as_code in parser.chunks if not as_code]


@dataclass(frozen=True)
class Problem:
    url: str
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.url}: {self.kind}: {self.text!r}"


def english_ui_strings() -> set[str]:
    """The English texts of the message catalogue that are whole sentences or phrases (two
    words or more): one of them in a Chinese page is an untranslated string."""
    found = set()
    for extracted in i18n_support.extract_messages().values():
        text = extracted.key.strip()
        if "%" in text or len(text.split()) < 2:
            continue
        found.add(text)
    return found


def problems_of(url: str, html: str, *, chinese: bool, allowed: set[str], english_ui: set[str]):
    """What a reader of `url` should not meet; `allowed` holds the codes, amounts and English
    phrases found in what people wrote (shown as written)."""
    found: list[Problem] = []
    for chunk in visible_text(html):
        for code in SNAKE_CASE.findall(chunk):
            if code not in allowed:
                found.append(Problem(url, "code", code))
        for day in ISO_DAY.findall(chunk):
            if day not in allowed:
                found.append(Problem(url, "ISO date", day))
        for amount in RAW_MONEY.findall(chunk):
            if amount not in allowed:
                found.append(Problem(url, "unformatted amount", amount))
        if not chinese:
            continue
        if chunk.strip() in english_ui:
            found.append(Problem(url, "untranslated", chunk.strip()))
        elif not CJK.search(chunk):
            for words in ENGLISH_WORDS.findall(chunk):
                if words not in allowed:
                    found.append(Problem(url, "English", words))
    return found


def shown_day(day, locale: str = "en") -> str:
    """A day as a page should show it to a reader of `locale`: Babel's medium date, computed
    here without the portal (so that a page test checks the portal's `day` against it)."""
    from babel.dates import format_date

    return format_date(day, "medium", locale=locale)
