"""Translate RE2 regular expressions (DuckDB's dialect) into Java ones (Spark's) with the same meaning.

DuckDB evaluates `regexp_matches`, `~`, `SIMILAR TO` and friends with RE2; Spark's `RLIKE` uses
`java.util.regex`. The two agree on most patterns and disagree silently on a few, which would turn a
quality rule into a wrong answer on one engine. This module rewrites the known differences and refuses
the constructs it cannot translate:

- ``.``, ``^`` and ``$``: Java treats ``\\r``, ``\\u0085``, ``\\u2028`` and ``\\u2029`` as line ends and
  lets ``$`` match before a final newline; RE2 knows only ``\\n`` and ``$`` is the end of the text.
  Every pattern gets Java's UNIX_LINES flag ``(?d)`` and an unescaped ``$`` becomes ``\\z`` (unless the
  pattern turns multi-line mode on, where both engines mean "end of line").
- ``\\s`` is ``[\\t\\n\\f\\r ]`` in RE2 but also matches the vertical tab in Java; ``\\v`` is one
  character in RE2 and a class in Java.
- ``[[:alpha:]]`` is a POSIX class in RE2 and a union of letters in Java; ``[`` inside a class is a
  literal in RE2 and a nested class in Java; ``&&`` is an intersection in Java.
- ``(?i)`` folds Unicode case in RE2 and ASCII only in Java: ``u`` is added.
- ``(?P<name>...)`` is RE2's named group, ``(?<name>...)`` Java's.
- ``(?U)`` (ungreedy in RE2, Unicode classes in Java), ``\\C``, back-references and octal escapes are
  refused with :class:`RegexTranslationError`.

``\\b`` keeps its meaning for ASCII text; around non-ASCII letters Java 17 and RE2 can disagree (see
``docs/spark.md``).
"""

from __future__ import annotations

_POSIX_CLASSES = {
    "alnum": "Alnum", "alpha": "Alpha", "ascii": "ASCII", "blank": "Blank", "cntrl": "Cntrl",
    "digit": "Digit", "graph": "Graph", "lower": "Lower", "print": "Print", "punct": "Punct",
    "space": "Space", "upper": "Upper", "xdigit": "XDigit",
}
_RE2_SPACE = r"\t\n\f\r "
_FLAG_CHARS = set("imsU-")


class RegexTranslationError(ValueError):
    """A pattern (or replacement) that cannot be expressed in Java's regex dialect with RE2's meaning."""


def re2_to_java(pattern: str, *, case_insensitive: bool = False, full_match: bool = False) -> str:
    """The Java pattern that matches exactly what ``pattern`` matches in RE2.

    >>> re2_to_java("^[0-9]{1,4}$")
    '(?d)^[0-9]{1,4}\\\\z'
    >>> re2_to_java("[[:alpha:]]+", full_match=True)
    '(?d)\\\\A(?:[\\\\p{Alpha}]+)\\\\z'
    """
    multiline = _enables_multiline(pattern)
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_negated = False
    while i < n:
        char = pattern[i]
        if char == "\\":
            if i + 1 >= n:
                raise RegexTranslationError("the pattern ends with a lone backslash")
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                stop = n if end < 0 else end + 2
                out.append(pattern[i:stop])
                i = stop
                continue
            out.append(_escape(nxt, pattern, i, in_class, class_negated))
            i += 2
            if nxt in "pP" and i < n and pattern[i] == "{":
                close = pattern.find("}", i)
                if close < 0:
                    raise RegexTranslationError("unterminated \\p{...} class")
                out.append(_unicode_class(pattern[i + 1:close]))
                i = close + 1
            elif nxt == "x" and i < n and pattern[i] == "{":
                close = pattern.find("}", i)
                out.append(pattern[i:close + 1])
                i = close + 1
            continue
        if in_class:
            if char == "]":
                in_class = False
                out.append("]")
            elif char == "[" and pattern.startswith("[:", i):
                close = pattern.find(":]", i + 2)
                if close < 0:
                    raise RegexTranslationError("unterminated POSIX class `[:...:]`")
                out.append(_posix_class(pattern[i + 2:close]))
                i = close + 2
                continue
            elif char in "[&":
                out.append("\\" + char)
            else:
                out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append("[")
            i += 1
            class_negated = i < n and pattern[i] == "^"
            if class_negated:
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if char == "$" and not multiline:
            out.append("\\z")
        elif char == "(" and pattern.startswith("(?", i):
            text, i = _group_opening(pattern, i)
            out.append(text)
            continue
        else:
            out.append(char)
        i += 1
    if in_class:
        raise RegexTranslationError("missing `]` at the end of a character class")
    body = "".join(out)
    if full_match:
        body = f"\\A(?:{body})\\z"
    return ("(?d)" + ("(?iu)" if case_insensitive else "")) + body


def re2_replacement_to_java(replacement: str) -> str:
    """RE2's rewrite string (``\\1`` = group 1, ``\\\\`` = backslash) as a Java replacement (``$1``).

    >>> re2_replacement_to_java(r"<\\1> costs $5")
    '<$1> costs \\\\$5'
    """
    out: list[str] = []
    i = 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\":
            nxt = replacement[i + 1] if i + 1 < len(replacement) else ""
            if nxt.isdigit():
                out.append("$" + nxt)
            elif nxt == "\\":
                out.append("\\\\")
            else:
                raise RegexTranslationError(f"invalid escape `\\{nxt}` in the replacement (RE2 allows "
                                            "\\0-\\9 and \\\\)")
            i += 2
            continue
        out.append("\\$" if char == "$" else char)
        i += 1
    return "".join(out)


def _escape(nxt: str, pattern: str, at: int, in_class: bool, class_negated: bool) -> str:
    if nxt == "s":
        return _RE2_SPACE if in_class else f"[{_RE2_SPACE}]"
    if nxt == "S":
        if in_class and class_negated:
            raise RegexTranslationError("`\\S` inside a negated class `[^...]` cannot be translated to Java; "
                                        "list the characters instead")
        return f"[^{_RE2_SPACE}]"
    if nxt == "v":
        return "\\x0B"
    if nxt == "C":
        raise RegexTranslationError("`\\C` (any byte) has no Java equivalent")
    if nxt.isdigit():
        raise RegexTranslationError(f"`\\{nxt}` (a back-reference or octal escape) is not supported by RE2 "
                                    "and means something else in Java")
    if nxt == "Z":
        raise RegexTranslationError("`\\Z` is not RE2 syntax; use `\\z` or `$`")
    return "\\" + nxt


def _unicode_class(name: str) -> str:
    # RE2 accepts general categories (`L`, `Lu`) and scripts (`Greek`); Java needs `Is` before a script.
    if len(name) <= 2 or name.startswith(("Is", "In", "^")):
        return "{" + name + "}"
    return "{Is" + name + "}"


def _posix_class(name: str) -> str:
    negated = name.startswith("^")
    base = name[1:] if negated else name
    if base == "word":
        return "\\W" if negated else "\\w"
    if base not in _POSIX_CLASSES:
        raise RegexTranslationError(f"unknown POSIX class `[:{name}:]`")
    return ("\\P{" if negated else "\\p{") + _POSIX_CLASSES[base] + "}"


def _group_opening(pattern: str, at: int) -> tuple[str, int]:
    """Translate ``(?...`` at ``at``; return the Java text and the index after what was consumed."""
    if pattern.startswith("(?P<", at):
        return "(?<", at + 4
    if pattern.startswith("(?P=", at):
        raise RegexTranslationError("named back-references `(?P=name)` are not supported by RE2")
    j = at + 2
    while j < len(pattern) and pattern[j] in _FLAG_CHARS:
        j += 1
    flags = pattern[at + 2:j]
    if j < len(pattern) and pattern[j] in ":)" and flags:
        if "U" in flags:
            raise RegexTranslationError("the `U` flag (ungreedy in RE2) means Unicode classes in Java; "
                                        "write lazy quantifiers such as `*?` instead")
        on, _, off = flags.partition("-")
        if "i" in on:
            on += "u"
        return "(?" + on + ("-" + off if off else "") + pattern[j], j + 1
    return "(?", at + 2


def _enables_multiline(pattern: str) -> bool:
    index = pattern.find("(?")
    while index >= 0:
        j = index + 2
        while j < len(pattern) and pattern[j] in _FLAG_CHARS:
            j += 1
        if "m" in pattern[index + 2:j].split("-")[0]:
            return True
        index = pattern.find("(?", index + 2)
    return False
