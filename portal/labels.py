"""Every code a user may meet, by its label: statuses, kinds, reasons, rules, actions.

Codes (`partially_approved`, `return_to_supplier`, `labor_hours`) are the names the database, the
API and the rules use; people read labels. Each domain package registers its labels here, by a
*kind* (`claim_status`, `disposition`...) and, for an enum, by the enum class as well, so that

- templates show ``{{ claim.status|label }}`` or ``{{ event.to_status|label('claim_status') }}``,
- messages name a parameter's kind (portal.messages) and show its label in the reader's language.

A label is written as a title ("Partially approved", "Supplier"): it stands alone in a table cell,
a badge or a heading. Inside an English sentence it reads as words instead ("Claim X is partially
approved", "a supplier user"): `in_sentence` (the ``|in_sentence`` filter, the ``word:`` kind of
a message parameter) says so. Chinese has no capitals: there it is the label unchanged.

This module imports no domain package: the domains import it (the layering of .importlinter).
A kind may also have a resolver, a function of the code, for codes that are data (reason codes
an admin maintains) or carry a value (`auto_approve_under_2000.00`).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import get_locale

log = logging.getLogger(__name__)

_LABELS: dict[str, dict[str, Any]] = {}
_KIND_OF_ENUM: dict[type, str] = {}
_RESOLVERS: dict[str, Callable[[str], str | None]] = {}


def register(kind: str, labels: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """Register `labels` (code or enum member -> lazy label) as `kind`; answers `labels`."""
    table = _LABELS.setdefault(kind, {})
    for code, text in labels.items():
        table[_code(code)] = text
        if isinstance(code, enum.Enum):
            _KIND_OF_ENUM.setdefault(type(code), kind)
    return labels


def register_resolver(kind: str, resolver: Callable[[str], str | None]) -> None:
    """Labels of `kind` computed from the code (None: no label, the code is shown)."""
    _RESOLVERS[kind] = resolver


def kinds() -> dict[str, dict[str, Any]]:
    """Every registered kind with its codes and lazy labels (the tests read them all)."""
    return {kind: dict(table) for kind, table in _LABELS.items()}


def has_label(value: Any, kind: str | None = None) -> bool:
    return _find(value, kind) is not None


def label(value: Any, kind: str | None = None) -> str:
    """The label of `value` (an enum member, or a code of `kind`) in the current language.

    A code without a label is shown as stored, and logged: it is a missing registration.
    """
    if value is None or value == "":
        return ""
    found = _find(value, kind)
    if found is None:
        log.warning("no label for %r of kind %s", value, kind)
        return _code(value)
    return str(found)


def in_sentence(value: Any, kind: str | None = None) -> str:
    """The label of `value` as words inside a sentence of the current language.

    In English each word loses its capital ("Partially approved" -> "partially approved"),
    except a code-like word that is written so on purpose: one whose second letter is a capital
    or that holds a digit ("VIN", "PDI", "CNY", "ST-B", "4WD"). Other languages: the label.
    """
    return as_words(label(value, kind))


def as_words(text: str) -> str:
    """`text` (a label, already in the current language) as words inside a sentence."""
    if not text or not _in_english():
        return text
    return " ".join(_as_word(word) for word in text.split(" "))


def _as_word(word: str) -> str:
    if (len(word) > 1 and word[1].isupper()) or any(c.isdigit() for c in word):
        return word
    return word[:1].lower() + word[1:]


def _in_english() -> bool:
    locale = get_locale()
    return locale is None or locale.language == "en"


def labels_of(values, kind: str | None = None) -> list[str]:
    return [label(v, kind) for v in values]


def _find(value: Any, kind: str | None):
    if kind is None and isinstance(value, enum.Enum):
        kind = _KIND_OF_ENUM.get(type(value))
    if kind is None:
        return None
    code = _code(value)
    found = _LABELS.get(kind, {}).get(code)
    if found is None and kind in _RESOLVERS:
        found = _RESOLVERS[kind](code)
    return found


def _code(value: Any) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)
