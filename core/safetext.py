"""Text from specs and data is text: neutralise it before it reaches a terminal or a Markdown report.

Everything a user wrote (names, labels, descriptions, owners, tags, SQL, rule expressions, messages
quoting them) and everything read from data (sample rows, observed values) goes through here on its
way to the screen:

* :func:`clean` removes terminal control: ESC sequences (CSI, OSC such as titles and hyperlinks, DCS,
  SOS, PM, APC and two-character escapes), C1 controls, DEL and C0 controls. A single-line field turns
  newlines and tabs into spaces; a multi-line one (``multiline=True``) keeps them.
* :func:`markup` is :func:`clean` plus Rich markup escaping, for text spliced into a markup string
  (``f"[bold]{markup(name)}[/]"``); :func:`text` makes a :class:`rich.text.Text`, which is never parsed
  as markup (Rich or Textual), for table cells and widget content.
* :class:`Sanitized` and :func:`protect` are the backstop for a Rich console: every text segment it
  prints is cleaned (styling is emitted from styles, not from segment text, so Rich's own colours and
  links are untouched).
* :func:`html` and :func:`md_cell` escape text for Markdown, which passes raw HTML through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.text import Text

_SEQUENCE = re.compile(
    r"""
      \x1b\[[0-?]*[ -/]*[@-~]?                    # CSI: ESC [ parameters intermediates final
    | \x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)   # OSC, DCS, SOS, PM, APC strings, to BEL or ST
    | \x1b[ -/]*[0-~]?                           # any other escape (nF, Fp, Fe, Fs), or a lone ESC
    | \x9b[0-?]*[ -/]*[@-~]?                     # 8-bit CSI
    | [\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)   # 8-bit strings
    """,
    re.VERBOSE,
)
# with the bidirectional embeddings, overrides and isolates, which make text read other than it is stored
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_ONE_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object, *, multiline: bool = False) -> str:
    r"""``value`` as text with no terminal control in it (``None`` is the empty string).

    >>> clean("a\x1b]0;pwned\x07b\x1b[2Jc")
    'abc'
    >>> clean("x\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\")
    'xlink'
    >>> clean("one\ntwo\tthree"), clean("one\r\ntwo", multiline=True)
    ('one two three', 'one\ntwo')
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case: nothing to do
        return text
    text = _SEQUENCE.sub("", text)
    if multiline:
        return _CONTROL_MULTILINE.sub("", text.replace("\r\n", "\n"))
    return _CONTROL_ONE_LINE.sub("", text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
                                 .replace("\r", " "))


def markup(value: object, *, multiline: bool = False) -> str:
    """:func:`clean` text escaped for Rich console markup: ``[/] label`` prints as written."""
    from rich.markup import escape

    return escape(clean(value, multiline=multiline))


def text(value: object, style: str = "", *, multiline: bool = False) -> Text:
    """:func:`clean` text as a :class:`rich.text.Text` (never parsed as markup), optionally styled."""
    from rich.text import Text

    return Text(clean(value, multiline=multiline), style=style)


def joined(values: Iterable[object], separator: str = ", ") -> str:
    """Clean values joined into one line (tags, owners, names)."""
    return separator.join(clean(v) for v in values)


class Sanitized:
    """A renderable that renders ``renderable`` and removes terminal control from its text segments."""

    def __init__(self, renderable: RenderableType):
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        for segment in console.render(self.renderable, options):
            if segment.control or segment.text.isprintable():
                yield segment
            else:
                yield Segment(clean(segment.text, multiline=True), segment.style, segment.control)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Any:
        from rich.measure import Measurement

        return Measurement.get(console, options, self.renderable)


def protect(console: Console) -> Console:
    """Make every ``console.print`` clean what it prints (see :class:`Sanitized`); returns ``console``."""
    from rich.console import RenderHook

    class _Hook(RenderHook):
        def process_renderables(self, renderables: list[Any]) -> list[Any]:
            return [Sanitized(r) for r in renderables]

    console.push_render_hook(_Hook())
    return console


def _no_tags(text: str) -> str:
    # `<` and `&` are all raw HTML (tags, entities) needs; `>` alone opens nothing, so `>=` stays readable
    return text.replace("&", "&amp;").replace("<", "&lt;")


def html(value: object) -> str:
    """Text for a Markdown document: clean, with ``&`` and ``<`` escaped (raw HTML stays text)."""
    return _no_tags(clean(value, multiline=True))


def md_cell(value: object) -> str:
    """Text for a Markdown table cell: :func:`html` on one line, with ``|`` escaped."""
    return _no_tags(clean(value)).replace("|", "\\|")
