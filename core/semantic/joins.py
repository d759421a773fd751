"""Dimensions: which column a name means for a dataset, and the many-to-one joins that reach it.

A dimension is written `column` (a column of the metric's dataset), `role.column` (through the
reference named `role`, e.g. `dest_airport.name`), `role.role.column` (several hops), or
`dataset.column` when exactly one chain of references leads to that dataset (`planes.manufacturer`).
Only references are followed, and references are many-to-one, so a join never multiplies rows. A
dataset that is reachable only against a reference's direction (it refers to the metric's dataset)
would fan out, and is refused with an explanation; a dataset reached by several chains is ambiguous,
and the error lists the explicit spellings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlglot import exp

from charter.core.diagnostics import did_you_mean
from charter.core.project import Project
from charter.core.semantic.sqlbuild import col, join, table
from charter.core.spec.dataset import Reference

SchemaOf = Callable[[str], "dict[str, str] | None"]
"""Column name -> type of a dataset (None when it cannot be read)."""

MAX_HOPS = 4


@dataclass(frozen=True, slots=True)
class Hop:
    """Following one reference: from the dataset holding it to its target."""

    role: str
    source: str
    target: str
    columns: tuple[str, ...]
    target_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Dimension:
    """A resolved dimension: the references followed from the base dataset, and the column reached."""

    base: str
    hops: tuple[Hop, ...]
    column: str

    @property
    def dataset(self) -> str:
        return self.hops[-1].target if self.hops else self.base

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(h.role for h in self.hops)

    @property
    def spelling(self) -> str:
        return ".".join((*self.roles, self.column))


class DimensionProblem(Exception):
    """Why a dimension name does not resolve for a dataset."""

    def __init__(self, message: str, hint: str | None = None, code: str = "unknown-dimension",
                 parts: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
        self.parts = parts
        """The name as written, split on dots."""


class JoinGraph:
    """The project's datasets and their references, with schemas read on demand."""

    def __init__(self, project: Project, schema_of: SchemaOf):
        self.project = project
        self.schema_of = schema_of
        self._schemas: dict[str, dict[str, str] | None] = {}

    def schema(self, dataset: str) -> dict[str, str] | None:
        if dataset not in self._schemas:
            self._schemas[dataset] = self.schema_of(dataset)
        return self._schemas[dataset]

    def references(self, dataset: str) -> list[Reference]:
        ds = self.project.datasets.get(dataset)
        return list(ds.references) if ds is not None else []

    def hop(self, dataset: str, role: str) -> Hop | None:
        for ref in self.references(dataset):
            if ref.role == role:
                return Hop(role, dataset, ref.target_dataset, tuple(ref.column), tuple(ref.target_columns))
        return None

    # -- resolution ----------------------------------------------------------------------------
    def resolve(self, base: str, name: str) -> Dimension:
        """Resolve a dimension written as text (``airlines.name``)."""
        parts = tuple(p.strip() for p in name.split("."))
        if any(not p for p in parts):
            raise DimensionProblem(f"`{name}` is not a dimension name", "write `column`, `role.column` or "
                                                                        "`dataset.column`")
        return self.resolve_parts(base, parts)

    def resolve_parts(self, base: str, parts: tuple[str, ...]) -> Dimension:
        if len(parts) == 1:
            return Dimension(base, (), self._column(base, parts[0], parts))
        hops = self._walk(base, parts[:-1])
        if hops is not None:
            self._check_fanout(hops)
            return Dimension(base, hops, self._column(hops[-1].target, parts[-1], parts))
        if parts[0] == base:
            return self.resolve_parts(base, parts[1:])
        if len(parts) == 2 and parts[0] in self.project.datasets:
            return self._by_dataset(base, parts[0], parts[1])
        return self._unknown_role(base, parts)

    def _walk(self, base: str, roles: tuple[str, ...]) -> tuple[Hop, ...] | None:
        hops: list[Hop] = []
        current = base
        for role in roles:
            hop = self.hop(current, role)
            if hop is None:
                return None
            hops.append(hop)
            current = hop.target
        return tuple(hops)

    def paths(self, base: str, target: str) -> list[tuple[Hop, ...]]:
        """Every chain of references (without revisiting a dataset) from ``base`` to ``target``."""
        found: list[tuple[Hop, ...]] = []

        def visit(dataset: str, path: tuple[Hop, ...], seen: frozenset[str]) -> None:
            if len(path) >= MAX_HOPS:
                return
            for ref in self.references(dataset):
                hop = Hop(ref.role, dataset, ref.target_dataset, tuple(ref.column), tuple(ref.target_columns))
                if hop.target == target:
                    found.append((*path, hop))
                elif hop.target not in seen:
                    visit(hop.target, (*path, hop), seen | {hop.target})

        visit(base, (), frozenset({base}))
        return found

    def _by_dataset(self, base: str, dataset: str, column: str) -> Dimension:
        paths = self.paths(base, dataset)
        if len(paths) == 1:
            self._check_fanout(paths[0])
            return Dimension(base, paths[0], self._column(dataset, column, (dataset, column)))
        if len(paths) > 1:
            spellings = [".".join((*(h.role for h in p), column)) for p in paths]
            raise DimensionProblem(
                f"`{dataset}.{column}` is ambiguous from dataset `{base}`: {len(paths)} references lead to "
                f"`{dataset}`", f"say which one: {' or '.join(f'`{s}`' for s in spellings)}",
                "ambiguous-dimension")
        if self.paths(dataset, base):
            raise DimensionProblem(
                f"`{dataset}.{column}` would fan out: `{dataset}` refers to `{base}` (many `{dataset}` rows "
                f"for one `{base}` row), so joining it would repeat each `{base}` row and inflate the metric",
                f"group a metric defined on `{dataset}` (the many side) instead, or use columns of `{base}` "
                "and of the datasets it refers to", "fan-out")
        reachable = self.reachable(base)
        raise DimensionProblem(
            f"`{dataset}.{column}` is not reachable from dataset `{base}`: no chain of `references` leads "
            f"from `{base}` to `{dataset}`",
            f"`{base}` reaches: {', '.join(reachable)}" if reachable else
            f"declare a many-to-one reference on `{base}` (`references: [{{column: ..., to: {dataset}.KEY}}]`)",
            "unreachable-dimension")

    def _unknown_role(self, base: str, parts: tuple[str, ...]) -> Dimension:
        current, walked = base, []
        for role in parts[:-1]:
            hop = self.hop(current, role)
            if hop is None:
                break
            walked.append(role)
            current = hop.target
        role = parts[len(walked)]
        roles = [r.role for r in self.references(current)]
        prefix = ".".join(walked)
        where = f"`{current}`" + (f" (reached as `{prefix}`)" if prefix else "")
        hint = did_you_mean(role, [*roles, *self.project.datasets])
        if hint is None:
            hint = f"references of `{current}`: {', '.join(roles)}" if roles else \
                f"`{current}` declares no references"
        raise DimensionProblem(f"dataset {where} has no reference named `{role}`, and `{role}` is not a "
                               f"dataset reachable from `{base}`", hint, "unknown-dimension", parts)

    def reachable(self, base: str) -> list[str]:
        """Role paths reachable from ``base`` (``airlines``, ``weather.station``), for hints."""
        out: list[str] = []

        def visit(dataset: str, prefix: tuple[str, ...], seen: frozenset[str]) -> None:
            for ref in self.references(dataset):
                path = (*prefix, ref.role)
                out.append(".".join(path))
                if ref.target_dataset not in seen and len(path) < MAX_HOPS:
                    visit(ref.target_dataset, path, seen | {ref.target_dataset})

        visit(base, (), frozenset({base}))
        return out

    def _column(self, dataset: str, column: str, parts: Iterable[str]) -> str:
        schema = self.schema(dataset)
        if schema is None or column in schema:
            return column
        raise DimensionProblem(f"`{column}` is not a column of dataset `{dataset}`",
                               did_you_mean(column, schema) or f"columns: {', '.join(list(schema)[:15])}",
                               "unknown-dimension", tuple(parts))

    def _check_fanout(self, hops: tuple[Hop, ...]) -> None:
        for hop in hops:
            target = self.project.datasets.get(hop.target)
            key = set(target.primary_key) if target is not None else set()
            if key and not key <= set(hop.target_columns):
                raise DimensionProblem(
                    f"the reference `{hop.role}` of `{hop.source}` joins on {', '.join(hop.target_columns)}, "
                    f"which is not a key of `{hop.target}` (its primary key is {', '.join(sorted(key))}); one "
                    f"`{hop.source}` row could match several rows and be counted more than once (fan-out)",
                    f"point the reference at `{hop.target}`'s primary key, or fix `primary_key:` if it is "
                    "wrong",
                    "fan-out")


@dataclass
class JoinPlan:
    """The LEFT JOINs a scan of ``base`` needs for its dimensions, with one alias per chain of references."""

    base: str
    aliases: dict[tuple[str, ...], str]
    hops: dict[tuple[str, ...], Hop]

    @classmethod
    def start(cls, base: str) -> JoinPlan:
        return cls(base, {(): base}, {})

    def alias(self, dim: Dimension) -> str:
        """The table alias of the dataset holding ``dim``, adding the joins that reach it."""
        for i in range(1, len(dim.hops) + 1):
            roles = dim.roles[:i]
            if roles not in self.aliases:
                alias = "__".join(roles)
                while alias in self.aliases.values():
                    alias += "_"
                self.aliases[roles] = alias
                self.hops[roles] = dim.hops[i - 1]
        return self.aliases[dim.roles]

    def column(self, dim: Dimension) -> exp.Column:
        return col(dim.column, self.alias(dim))

    def apply(self, select: exp.Select) -> exp.Select:
        """Add ``FROM base`` and the joins, in the order the chains were first used."""
        select = select.from_(table(self.base, self.base), copy=False)
        for roles, hop in self.hops.items():
            left, right = self.aliases[roles[:-1]], self.aliases[roles]
            condition = exp.and_(*(exp.EQ(this=col(tc, right), expression=col(c, left))
                                   for c, tc in zip(hop.columns, hop.target_columns, strict=False)))
            select = join(select, table(hop.target, right), "left", condition)
        return select

