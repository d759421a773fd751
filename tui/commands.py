"""Command palette providers: jump to any object of the catalog by (fuzzy) name."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

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
                yield DiscoveryHit(f"metric {label or name}", partial(self._open, kind, name),
                                   help=f"open {KIND_WORD[kind]} `{name}`")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for kind, name, label in self.objects:
            text = f"{KIND_WORD.get(kind, kind)} {name}" + (f" — {label}" if label else "")
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._open, kind, name),
                          help=f"open {KIND_WORD.get(kind, kind)} `{name}`")
