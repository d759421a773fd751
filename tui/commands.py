"""Command palette providers: jump to any object of the catalog by (fuzzy) name."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from charter.core.safetext import clean
from charter.core.safetext import text as plain
from charter.tui.messages import OpenObject

KIND_WORD = {"metric": "metric", "dataset": "dataset", "quality": "quality suite", "contract": "contract",
             "environment": "environment", "saved_query": "saved query"}


class ObjectsProvider(Provider):
    """Every metric, dataset, quality suite, contract, environment and saved query, by name or label."""

    async def startup(self) -> None:
        catalog = self.app.catalog  # type: ignore[attr-defined]
        try:  # the catalog is read in a thread: the palette opens at once and never blocks the UI
            self.objects = await asyncio.to_thread(catalog.names)
        except Exception:
            self.objects = []

    def _open(self, kind: str, name: str) -> None:
        self.app.post_message(OpenObject(kind, name))

    async def discover(self) -> Hits:
        for kind, name, label in self.objects:
            if kind == "metric":
                yield DiscoveryHit(plain(f"metric {label or name}"), partial(self._open, kind, name),
                                   help=escape(f"open {KIND_WORD[kind]} `{clean(name)}`"))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for kind, name, label in self.objects:
            text = clean(f"{KIND_WORD.get(kind, kind)} {name}" + (f" — {label}" if label else ""))
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, _highlight(matcher, text), partial(self._open, kind, name),
                          help=escape(f"open {clean(KIND_WORD.get(kind, kind))} `{clean(name)}`"))


def _highlight(matcher: Matcher, text: str) -> Content:
    """``matcher.highlight`` without parsing ``text`` as Textual markup (names and labels are text)."""
    content = Content(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets if score else ():
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content
