"""Detectors of personal data in text: e-mail addresses, phone numbers and payment card numbers.

The same patterns run in two places: in SQL, inside Charter's one scan (the `no_untagged_pii` rule),
and in Python (the `csv-dataset` importer classifies columns with them). They are written in the
common subset of RE2 (DuckDB, Spark) and Python's `re`, and are deliberately strict: a data-quality
rule that cries wolf on every ten-digit identifier is switched off within a week.

- e-mail: `local@domain.tld`, with a letters-only top-level domain of two or more letters;
- phone: an international number (`+` then 8 to 15 digits, single spaces, dots or dashes allowed
  between them) or a North American one written with separators (`(212) 555-0100`, `212-555-0100`); a bare
  run of digits is not a phone number (it is far more often an identifier);
- card: 16 digits of the Visa, Mastercard or Discover ranges, or 15 of American Express, optionally
  grouped by spaces or dashes, that also pass the Luhn checksum.
"""

from __future__ import annotations

import re

KINDS: tuple[str, ...] = ("email", "phone", "card")

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
PHONE = (r"(?:\+[1-9](?:[ .-]?\d){7,14}\b"
         r"|(?:\(\d{3}\) ?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b)")
CARD = (r"\b(?:4\d{3}(?:[ -]?\d{4}){3}"
        r"|5[1-5]\d{2}(?:[ -]?\d{4}){3}"
        r"|2[2-7]\d{2}(?:[ -]?\d{4}){3}"
        r"|6(?:011|5\d{2})(?:[ -]?\d{4}){3}"
        r"|3[47]\d{2}[ -]?\d{6}[ -]?\d{5})\b")

PATTERNS: dict[str, str] = {"email": EMAIL, "phone": PHONE, "card": CARD}
TAGS: dict[str, str] = {"email": "pii.email", "phone": "pii.phone", "card": "pii.card"}
"""The column tag each kind of personal data calls for."""

LUHN_WIDTH = 19
"""Card numbers are at most 19 digits; the SQL Luhn check left-pads to this width with zeros."""

# re.ASCII: `\d` and `\b` mean what they mean in RE2 (ASCII digits and word characters), not Unicode's
_COMPILED = {kind: re.compile(pattern, re.ASCII) for kind, pattern in PATTERNS.items()}


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits (what payment card numbers satisfy).

    >>> luhn_ok("4111111111111111"), luhn_ok("4111111111111112")
    (True, False)
    """
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit >= 5 else digit * 2
        total += digit
    return total % 10 == 0


def detect(text: str, kinds: tuple[str, ...] = KINDS) -> set[str]:
    """The kinds of personal data found in ``text``.

    Like the SQL rule, only the first card-shaped number of a value is checked with Luhn.

    >>> sorted(detect("mail ann@example.org or call +44 20 7946 0958"))
    ['email', 'phone']
    >>> detect("order 4111 1111 1111 1111"), detect("order 4111 1111 1111 1112")
    ({'card'}, set())
    """
    found = set()
    for kind in kinds:
        match = _COMPILED[kind].search(text)
        if match is None:
            continue
        if kind == "card" and not luhn_ok(re.sub("[^0-9]", "", match.group(0))):
            continue
        found.add(kind)
    return found
