"""Ranked, typo-tolerant search over catalog objects and columns, vectorised with Arrow and NumPy.

Every word of the query must match a document somewhere; each word scores the best of:

- 100: the exact name; 90: a label equal to the word;
- 80: a name starting with it; 60: a name containing it; 55: a label containing it;
- 45: a tag containing it; 40: owner(s), domain, tier or sponsor containing it;
- 25: a description containing it;
- up to 50: a word of the name or label within Jaro-Winkler similarity 0.88 of it (query words of 3+
  letters), so that ``depature`` still finds ``departure``.

Scores add up over the query's words; certified objects get +5 and deprecated ones -10, so that among
equally good matches the trusted definition comes first; ties keep the frame's order (by name).

One :class:`SearchIndex` serves ``charter catalog search`` and the TUI's instant filter: building it
lower-cases the text fields and collects the vocabulary of name/label words once; a query then costs a
few vectorised substring tests plus one Jaro-Winkler pass over the vocabulary (DuckDB's
``jaro_winkler_similarity``), not over every document — a few milliseconds for 10,000 metrics.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import duckdb
    import numpy as np
    import pyarrow as pa

FUZZY_THRESHOLD = 0.88
FIELDS = ("kind", "name", "label", "description", "owner", "owners", "domain", "tags", "status", "tier",
          "sponsor")
"""Columns a frame must have to be searched."""

DOCS_FROM_CATALOG = """
    SELECT kind, name, label, description, owner, owners, domain, tags, status, tier, sponsor, type
    FROM objects WHERE build_id = $build
    UNION ALL
    SELECT 'column', dataset || '.' || name, name, description, NULL, [], NULL,
           list_concat(tags, inherited_tags), NULL, NULL, NULL, type
    FROM columns WHERE build_id = $build
    ORDER BY kind = 'column', kind, name
"""
"""Search documents of a build: every spec object, then every dataset column (named ``dataset.column``, its
label being the bare column name), so that on equal scores objects come before columns."""


def tokens(text: str) -> list[str]:
    """Lower-cased words of a query (punctuation other than ``._-`` separates words).

    >>> tokens("On-time  RATE")
    ['on-time', 'rate']
    """
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else " " for ch in text.lower())
    return list(dict.fromkeys(t for t in cleaned.split() if t))


def _text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A text column with NULLs as empty strings (an all-NULL column may arrive typed as `null`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.fill_null(column.cast(pa.string()), "")


def _words(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A list-of-text column joined with spaces (NULL lists become empty strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return _text(pc.binary_join(column.cast(pa.list_(pa.string())), " "))


def _lower(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    lowered = pc.utf8_lower(_text(column))
    return lowered.combine_chunks() if isinstance(lowered, pa.ChunkedArray) else lowered


class SearchIndex:
    """Search over an Arrow table of documents with the columns in :data:`FIELDS`."""

    def __init__(self, frame: pa.Table):
        import duckdb
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        self.frame = frame
        self.size = frame.num_rows
        self.n = _lower(frame.column("name"))
        self.l = _lower(frame.column("label"))
        self.d = _lower(frame.column("description"))
        self.t = _lower(_words(frame.column("tags")))
        who = [_text(frame.column(c)) for c in ("owner", "domain", "tier", "sponsor")]
        self.o = _lower(pc.binary_join_element_wise(*who, _words(frame.column("owners")), " "))
        status = _text(frame.column("status")).to_numpy(zero_copy_only=False)
        self.bonus = np.where(status == "certified", 5.0, np.where(status == "deprecated", -10.0, 0.0))
        words = pc.utf8_split_whitespace(pc.replace_substring_regex(
            pc.binary_join_element_wise(self.n, self.l, " "), "[^a-z0-9]+", " "))
        flat = pc.list_flatten(words)
        self.vocabulary = pc.unique(flat)
        self.word_of = pc.index_in(flat, value_set=self.vocabulary).to_numpy(zero_copy_only=False)
        self.doc_of = pc.list_parent_indices(words).to_numpy(zero_copy_only=False)
        self._db = duckdb.connect()
        self._db.register("incoming", pa.table({"word": self.vocabulary}))
        self._db.execute("CREATE TABLE vocabulary AS SELECT row_number() OVER () AS i, word FROM incoming")
        self._db.unregister("incoming")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:  # cursors are created one at a time; each is then used by one thread
            return self._db.cursor()

    def _fuzzy(self, word: str) -> np.ndarray:
        import numpy as np

        best = np.zeros(self.size)
        if len(word) < 3 or len(self.vocabulary) == 0:
            return best
        cursor = self._cursor()
        try:
            similarity = np.asarray([row[0] for row in cursor.execute(
                "SELECT jaro_winkler_similarity(word, ?) FROM vocabulary ORDER BY i", [word]).fetchall()],
                dtype=float)
        finally:
            cursor.close()
        np.maximum.at(best, self.doc_of, similarity[self.word_of])
        return np.where(best >= FUZZY_THRESHOLD, best * 50, 0.0)

    def score(self, word: str) -> np.ndarray:
        """Each document's score for one query word (0: no match)."""
        import numpy as np
        import pyarrow.compute as pc

        def hit(mask: pa.Array, points: float) -> np.ndarray:
            return np.where(mask.to_numpy(zero_copy_only=False), points, 0.0)

        return np.maximum.reduce([
            hit(pc.equal(self.n, word), 100), hit(pc.starts_with(self.n, word), 80),
            hit(pc.match_substring(self.n, word), 60), hit(pc.equal(self.l, word), 90),
            hit(pc.match_substring(self.l, word), 55), hit(pc.match_substring(self.t, word), 45),
            hit(pc.match_substring(self.o, word), 40), hit(pc.match_substring(self.d, word), 25),
            self._fuzzy(word)])

    def rank(self, text: str, *, rows: Sequence[int] | np.ndarray | None = None, limit: int | None = None,
             ) -> list[tuple[int, float]]:
        """``(row, score)`` of the documents matching ``text``, best first.

        ``rows`` restricts the search to those rows (the TUI's filters); with no words in ``text``
        every allowed row comes back in frame order with score 0.
        """
        import numpy as np

        allowed = np.arange(self.size) if rows is None else np.asarray(rows, dtype=np.int64)
        words = tokens(text)
        if not words:
            return list(zip(allowed[:limit].tolist(), [0.0] * len(allowed[:limit]), strict=True))
        total = np.zeros(self.size)
        keep = np.zeros(self.size, dtype=bool)
        keep[allowed] = True
        for word in words:
            points = self.score(word)
            keep &= points > 0
            total += points
        total += self.bonus
        found = np.flatnonzero(keep)
        picked = found[np.argsort(-total[found], kind="stable")][:limit]  # ties keep frame (name) order
        return list(zip(picked.tolist(), total[picked].tolist(), strict=True))


def search_catalog(con: duckdb.DuckDBPyConnection, build_id: int, text: str, *, kinds: list[str] | None = None,
                   limit: int = 20) -> list[dict[str, object]]:
    """Ranked matches of ``text`` among the objects and columns of a build."""
    frame = con.sql(DOCS_FROM_CATALOG, params={"build": build_id}).to_arrow_table()
    if kinds:
        import pyarrow as pa
        import pyarrow.compute as pc

        frame = frame.filter(pc.is_in(frame.column("kind"), value_set=pa.array(kinds)))
    index = SearchIndex(frame)
    try:
        ranked = index.rank(text, limit=limit)
    finally:
        index.close()
    if not ranked:
        return []
    keep = ("kind", "name", "label", "description", "owner", "domain", "tags", "status", "type")
    rows = frame.select(list(keep)).take([r for r, _ in ranked]).to_pylist()
    return [{**row, "score": score} for row, (_, score) in zip(rows, ranked, strict=True)]
