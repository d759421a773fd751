"""Typed messages: workers post them to the UI thread with what they read from the catalog.

Dataclass messages work because Textual's ``Message.__post_init__`` initialises the message itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from charter.catalog.lineage import NodeKey
    from charter.catalog.query import CheckRow, LineageNode, RunRow
    from charter.catalog.search import SearchIndex


class CatalogChanged(Message):
    """The catalog file changed on disk (a build or a run wrote it); screens reload what they show."""

    def __init__(self, version: int):
        super().__init__()
        self.version = version


class CatalogFailed(Message):
    """A catalog read failed; the app reports it in one place (a notification)."""

    def __init__(self, what: str, message: str, hint: str | None = None):
        super().__init__()
        self.what = what
        self.message = message
        self.hint = hint


class OpenObject(Message):
    """Show an object in its screen (from the command palette, a link, or lineage)."""

    def __init__(self, kind: str, name: str):
        super().__init__()
        self.kind = kind
        self.name = name


@dataclass
class ListLoaded(Message):
    """The rows of a list screen (metrics, datasets, contracts) and their search index."""

    kind: str
    rows: list[dict[str, Any]]
    index: SearchIndex
    version: int


@dataclass
class ListFiltered(Message):
    """Rows (numbers into the loaded rows) that match the search text and filters, best first."""

    kind: str
    order: list[int]
    query: str


@dataclass
class DetailLoaded(Message):
    """Everything a detail pane shows for one object (see ``Catalog.*_view``)."""

    kind: str
    name: str
    view: dict[str, Any] | None


@dataclass
class SqlCompiled(Message):
    """The SQL a metric compiles to, or why it could not be compiled here."""

    metric: str
    sql: str | None
    problem: str | None


@dataclass
class ChecksLoaded(Message):
    """Check results of a run (the latest complete one by default) and the recent runs."""

    run: RunRow | None
    checks: list[CheckRow]
    runs: list[RunRow]
    version: int


@dataclass
class LineageLoaded(Message):
    root: NodeKey
    direction: str
    depth: int
    tree: LineageNode
