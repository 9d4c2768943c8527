"""VIN validation: ISO 3779 / GB 16735 check digit in position 9."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def check_digit(vin: str) -> str:
    """The check character (0-9 or X) for a 17-character VIN; position 9 itself is ignored."""
    total = sum(_VALUES[ch] * w for ch, w in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_error(vin: str) -> str | None:
    """Why `vin` is not a valid VIN, or None when it is."""
    if len(vin) != 17:
        return str(_l("it must be 17 characters long"))
    if not _VIN_RE.match(vin):
        return str(_l("it may hold only digits and capital letters other than I, O and Q"))
    expected = check_digit(vin)
    if vin[8] != expected:
        return str(
            _l(
                "its check digit (position 9) is %(found)s where %(expected)s is expected",
                found=vin[8],
                expected=expected,
            )
        )
    return None


def is_valid_vin(vin: str) -> bool:
    return vin_error(vin) is None


def with_check_digit(vin: str) -> str:
    """`vin` with its position 9 replaced by the right check digit (for making demo VINs)."""
    return vin[:8] + check_digit(vin) + vin[9:]
