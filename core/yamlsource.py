"""YAML parsing that remembers where every key and value came from.

PyYAML's C composer builds the node tree (fast); we convert it to plain Python values and record,
for every path (a tuple of mapping keys and list indexes), the 1-based line and column of the value
and of the key that introduced it. Validation errors are later mapped back through these tables.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, cast

import yaml

from charter.core.diagnostics import Diagnostic, error, warning

try:  # the C composer is ~10x faster; fall back to pure Python where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """The safe loader, resolving each distinct plain scalar's type once: spec files repeat the same keys
    and values thousands of times, and the resolver's regular expressions ran for every one of them."""

    _tags: dict[str, str] = {}

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0] and len(self._tags) < 100_000:
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path resolvers are registered: skip the bookkeeping PyYAML does for them on every node."""

    def ascend_resolver(self) -> None:
        """See descend_resolver."""

MAX_FILE_BYTES = 5 * 1024 * 1024
"""Largest spec file read (5 MiB: hand-written specs are a few KiB; this is a bound, not a goal)."""
MAX_SPEC_BYTES = 2 * 1024 * 1024
"""Largest spec file loaded (2 MiB: the largest spec or contract in the tests is 190 KiB)."""
MAX_VALUES = 250_000
"""Values (keys, scalars, lists, mappings) a spec file may hold, estimated from its separators before it is
parsed: the parser's tree takes ~700 bytes a value, so 5 MiB of `[],` would take 1.4 GB and 14 s."""
MAX_ALIAS_USES = 10_000
"""Aliases of mappings and lists (`*name`, `<<: *name`) one file may use."""
MAX_ALIAS_NODES = 50_000
"""Keys, values and items one file may copy in through aliases and merge keys. Aliases share nodes, so a
few hundred bytes can stand for billions of them (the "billion laughs"); this bounds the expansion. Real
specs that reuse a block of columns or defaults a few hundred times stay far below it."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and lists (specs nest about 6 deep; a cyclic alias nests forever)."""

PathKey = tuple[str | int, ...]


class Position(NamedTuple):
    """1-based line and column."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class ScalarStyle:
    """Where a quoted or block scalar's text starts, to place errors inside embedded SQL."""

    style: str  # "|", ">", '"', "'"
    line: int  # line of the first character of the text
    column: int  # column of the first character of the text


@dataclass(slots=True)
class YamlDocument:
    """A parsed YAML file: its data and the positions of everything in it."""

    file: str
    data: Any
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    """Line and column of every value, by path (plain tuples: there is one per node)."""
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    styles: dict[PathKey, ScalarStyle] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def value_position(self, path: PathKey) -> Position:
        """Position of the value at ``path``, or of its nearest enclosing value."""
        while path:
            pos = self.values.get(path)
            if pos is not None:
                return Position(*pos)
            path = path[:-1]
        return Position(*self.values.get((), (1, 1)))

    def key_position(self, path: PathKey) -> Position:
        """Position of the key that introduces ``path`` (falls back to the value's position)."""
        pos = self.keys.get(path)
        return Position(*pos) if pos is not None else self.value_position(path)

    def text_position(self, path: PathKey, offset: int) -> Position:
        """Position of character ``offset`` inside the string scalar at ``path``.

        Exact for literal block scalars (``|``) and single-line scalars; for folded or multi-line
        quoted text it points at the start of the right line.
        """
        value = _get(self.data, path)
        start = self.value_position(path)
        if not isinstance(value, str):
            return start
        before = value[: max(0, min(offset, len(value)))]
        line_index = before.count("\n")
        col_in_line = len(before) - (before.rfind("\n") + 1)
        style = self.styles.get(path)
        if style is None:
            return Position(start.line + line_index, (start.column if line_index == 0 else 1) + col_in_line)
        if style.style in "|>":
            # every line of a block scalar is indented like its first line; the rest is content
            return Position(style.line + line_index, style.column + col_in_line)
        if line_index == 0:
            return Position(style.line, style.column + col_in_line)
        return Position(style.line + line_index, 1)


def _indent_of(lines: list[str], line_no: int) -> int:
    if 0 < line_no <= len(lines):
        text = lines[line_no - 1]
        return len(text) - len(text.lstrip(" "))
    return 0


def _char_at(lines: list[str], line: int, column: int) -> str:
    if 0 <= line < len(lines) and 0 <= column < len(lines[line]):
        return lines[line][column]
    return ""


def _get(data: Any, path: PathKey) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """A limit of the builder was exceeded: stops the whole file, with a positioned diagnostic."""

    def __init__(self, message: str, code: str, hint: str, line: int, column: int):
        super().__init__(message)
        self.diagnostic = error(message, code=code, hint=hint, line=line, column=column)


_BAD = object()  # a scalar that could not be constructed (already diagnosed)

_TAG_WORDS = {"tag:yaml.org,2002:int": "an integer", "tag:yaml.org,2002:float": "a number",
              "tag:yaml.org,2002:bool": "true or false", "tag:yaml.org,2002:timestamp": "a date or time",
              "tag:yaml.org,2002:null": "null", "tag:yaml.org,2002:binary": "base64 data"}


def _shown(text: str, limit: int = 40) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class _Builder:
    """Node tree -> Python values, recording positions. Hot: it runs once per node of every spec file.

    The composer resolves an alias to the very node of its anchor, so the tree is a graph: a node met a
    second time is an alias use. Those are counted, and so is everything built again through them, to bound
    the expansion; a node met again inside itself is an alias of its own anchor (a cycle).
    """

    def __init__(self, doc: YamlDocument, diagnostics: list[Diagnostic]):
        self.doc = doc
        self.diagnostics = diagnostics
        self.constructor = yaml.constructor.SafeConstructor()
        self.values = doc.values
        self.keys = doc.keys
        self.met: dict[int, PathKey] = {}  # id of every mapping and list built -> the path it was first built at
        self.alias_uses = 0
        self.copying = 0  # > 0 while building a node again through an alias
        self.copied = 0

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag == _STR:
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception as exc:  # PyYAML's constructors raise whatever int() and date() raise
            self.constructor.recursive_objects.clear()
            self._bad_scalar(node, exc)
            return _BAD

    def _bad_scalar(self, node: yaml.Node, exc: Exception) -> None:
        text = _shown(str(node.value) if isinstance(node.value, str) else "")
        tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
        if isinstance(exc, yaml.constructor.ConstructorError):
            problem = exc.problem or "cannot construct this value"
            if "could not determine a constructor" in problem:
                message = f"unknown YAML tag `{tag}`"
                hint = "spec files use plain YAML: remove the tag, or quote the value to keep it as text"
            else:
                message = f"invalid YAML value `{text}` for tag `{tag}`: {problem}"
                hint = f"remove the `{tag}` tag or fix the value"
            self._error(node, message, "yaml-value", hint=hint)
            return
        what = _TAG_WORDS.get(str(node.tag), "a value")
        detail = str(exc)
        if "integer string conversion" in detail:
            digits = sum(c.isdigit() for c in str(node.value))
            detail = f"it has {digits:,} digits and at most {sys.get_int_max_str_digits():,} can be read"
        elif not isinstance(exc, ValueError) or detail.startswith(("invalid literal", "could not convert")):
            detail = "it is not one"
        hint = (f"remove the `{tag}` tag, or write {what}" if self._tagged(node)
                else f"quote it to keep it as text: '{text}'")
        self._error(node, f"invalid YAML value `{text}`: YAML reads it as {what}, but {detail}", "yaml-value",
                    hint=hint)

    def _tagged(self, node: yaml.Node) -> bool:
        """Whether the scalar carries an explicit tag (`!!int x`) rather than one read from its text."""
        mark = node.start_mark
        lines = self.doc.lines
        text = lines[mark.line][mark.column:] if 0 <= mark.line < len(lines) else ""
        if text.startswith("&"):  # an anchor comes before the tag: `&a !!int 1`
            text = text.split(None, 1)[1] if " " in text else ""
        return text.startswith("!")

    def _refuse(self, node: yaml.Node, path: PathKey, message: str, code: str, hint: str) -> _Refused:
        """The error for ``node`` reached at ``path``: placed at the key that led there when there is one (an
        aliased node's own position is its anchor's, not the alias's)."""
        for i in range(len(path), 0, -1):
            pos = self.keys.get(path[:i])
            if pos is not None:
                return _Refused(message, code, hint, *pos)
        mark = node.start_mark
        return _Refused(message, code, hint, mark.line + 1, mark.column + 1)

    def _alias(self, node: yaml.Node, path: PathKey) -> Any:
        """Build ``node`` again: it was reached through an alias (counted where the file writes one, not for
        the aliases inside what an alias copies: those count as copied nodes)."""
        if not self.copying:
            self.alias_uses += 1
        if self.alias_uses > MAX_ALIAS_USES:
            raise self._refuse(node, path, f"too many aliases: more than {MAX_ALIAS_USES:,} uses of anchors in "
                               "one file", "yaml-alias-limit",
                               "write the repeated blocks out, or split the file")
        self.copying += 1
        try:
            return self.build(node, path, again=True)
        finally:
            self.copying -= 1

    def build(self, node: yaml.Node, path: PathKey, again: bool = False) -> Any:
        mark = node.start_mark
        self.values[path] = (mark.line + 1, mark.column + 1)
        if self.copying:
            self.copied += 1
            if self.copied > MAX_ALIAS_NODES:
                raise self._refuse(node, path, f"aliases expand to too much: more than {MAX_ALIAS_NODES:,} "
                                   "keys, values and items copied through anchors in one file", "yaml-alias-limit",
                                   "an alias repeats its anchor's whole content; nest fewer aliases in aliases")
        kind = node.__class__
        if kind is yaml.ScalarNode:
            value = self.scalar(node)
            style = getattr(node, "style", None)
            if style and isinstance(value, str):
                if style in "|>":
                    # block text begins on the line after the indicator; its indent is read from the file
                    line = mark.line + 2
                    column = _indent_of(self.doc.lines, line) + 1
                else:
                    line, column = mark.line + 1, mark.column + 2
                self.doc.styles[path] = ScalarStyle(style, line, column)
            return value
        if not again:
            first = self.met.get(id(node))
            if first is not None:
                if path[: len(first)] == first:  # met again inside itself
                    raise self._refuse(node, path, "an alias refers to its own anchor: the value would contain "
                                       "itself forever", "yaml-recursive-alias",
                                       "an alias can only refer to an anchor that is complete before it")
                return self._alias(node, path)
            if len(path) >= MAX_DEPTH:
                raise self._refuse(node, path, f"mappings and lists are nested too deeply (more than {MAX_DEPTH} "
                                   "levels)", "yaml-too-deep", "flatten the structure")
            self.met[id(node)] = path
        if kind is yaml.MappingNode:
            if any(k.tag == _MERGE for k, _ in node.value):
                own = sum(1 for k, _ in node.value if k.tag != _MERGE)
                self.constructor.flatten_mapping(cast(yaml.MappingNode, node))  # `kind` checked above
                self.copied += 2 * (len(node.value) - own)  # each merged key and value is a copy
                if self.copied > MAX_ALIAS_NODES:
                    raise self._refuse(node, path, f"merge keys (`<<`) expand to too much: more than "
                                       f"{MAX_ALIAS_NODES:,} keys, values and items copied through anchors in "
                                       "one file", "yaml-alias-limit", "merge fewer or smaller mappings")
            result: dict[Any, Any] = {}
            keys = self.keys
            for key_node, value_node in node.value:
                if key_node.tag == _STR:
                    key = key_node.value
                else:
                    key = self.scalar(key_node)
                    if key is _BAD:
                        continue
                    if not isinstance(key, str | int | float | bool) or key is None:
                        self._error(key_node, "mapping keys must be plain text", "yaml-key",
                                    hint="quote the key to make it text")
                        continue
                    if isinstance(key, bool | float):
                        key = str(key_node.value)
                child = (*path, key)
                if key in result:
                    first_line = keys[child][0]
                    self._error(key_node, f"duplicate key `{key}` (first defined on line {first_line})",
                                "yaml-duplicate-key", hint="remove one of the two entries")
                    continue
                km = key_node.start_mark
                keys[child] = (km.line + 1, km.column + 1)
                result[key] = self.build(value_node, child)
            return result
        return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]

    def _error(self, node: yaml.Node, message: str, code: str, hint: str | None = None) -> None:
        self.diagnostics.append(error(message, code=code, hint=hint, file=self.doc.file,
                                      line=node.start_mark.line + 1, column=node.start_mark.column + 1))


def read_text(path: Path, display: str, diagnostics: list[Diagnostic],
              max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """Read a spec file as UTF-8 text, refusing huge and binary files with a diagnostic."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            diagnostics.append(error(
                f"file is too large to be a spec file ({size:,} bytes; the limit is {max_bytes:,})",
                file=display, line=1, column=1, code="file-too-large",
                hint="keep data out of spec files, or exclude this file in charter.yaml (`exclude:`)"))
            return None
        raw = path.read_bytes()
    except OSError as exc:
        diagnostics.append(error(f"cannot read file: {exc.strerror or exc}", file=display, code="file-unreadable"))
        return None
    if b"\x00" in raw[:8192]:
        diagnostics.append(error("binary file where a YAML spec was expected", file=display, line=1, column=1,
                                 code="binary-file",
                                 hint="move it out of the project or exclude it in charter.yaml (`exclude:`)"))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        diagnostics.append(error(f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", file=display,
                                 line=line, column=column, code="not-utf8",
                                 hint="save the file as UTF-8"))
        return None


def parse_yaml(text: str, display: str, diagnostics: list[Diagnostic]) -> YamlDocument | None:
    """Parse one YAML document; problems become diagnostics and ``None`` is returned."""
    doc = YamlDocument(file=display, data=None, lines=text.splitlines())
    values = text.count(",") + text.count("\n") + text.count("- ") + text.count("[") + text.count("{")
    if values > MAX_VALUES:  # every value but the first needs one of these before it (or is on its own line)
        diagnostics.append(error(f"file holds too many YAML values to be a spec file (about {values:,}; the limit "
                                 f"is {MAX_VALUES:,})", file=display, line=1, column=1, code="file-too-large",
                                 hint="split it into several spec files, or keep data out of spec files"))
        return None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        hint = None
        at_mark = _char_at(doc.lines, mark.line, mark.column) if mark else ""
        if at_mark == "\t" or "\\t" in problem or "\t" in problem:
            problem = "tab character where indentation was expected"
            hint = "YAML indentation must use spaces, not tabs"
        elif "expected a single document" in (exc.context or "") or "expected a single document" in problem:
            problem = "more than one YAML document (`---`) in a spec file"
            hint = "put each document in its own file"
        elif exc.context:
            problem = f"{problem} ({exc.context})"
        if hint is None:
            hint = "check the indentation, brackets and quotes here; quote text that contains `: ` or `#`"
        diagnostics.append(error(f"invalid YAML: {problem}", file=display,
                                 line=mark.line + 1 if mark else None,
                                 column=mark.column + 1 if mark else None, code="yaml-syntax", hint=hint))
        return None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        diagnostics.append(error(f"invalid YAML: {exc}", file=display, code="yaml-syntax"))
        return None
    if node is None:
        diagnostics.append(warning("file is empty: it declares nothing", file=display, line=1, column=1,
                                   code="empty-file",
                                   hint="add a section such as `datasets:` or delete the file"))
        return None
    local: list[Diagnostic] = []
    try:
        doc.data = _Builder(doc, local).build(node, ())
    except _Refused as exc:
        local.append(exc.diagnostic.with_position(display, exc.diagnostic.line, exc.diagnostic.column))
    except yaml.constructor.ConstructorError as exc:  # a merge key (`<<`) whose value is not a mapping
        mark = exc.problem_mark
        local.append(error(f"invalid YAML value: {exc.problem}", file=display,
                           line=mark.line + 1 if mark else 1, column=mark.column + 1 if mark else 1,
                           code="yaml-syntax", hint="`<<:` merges a mapping or a list of mappings into this one"))
    diagnostics.extend(local)
    return None if any(d.is_error for d in local) else doc


def load_yaml_file(path: Path, display: str, diagnostics: list[Diagnostic]) -> YamlDocument | None:
    text = read_text(path, display, diagnostics, MAX_SPEC_BYTES)
    return None if text is None else parse_yaml(text, display, diagnostics)
