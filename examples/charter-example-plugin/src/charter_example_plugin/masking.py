"""The `masked` source: another dataset of the project with some columns hashed or redacted.

    datasets:
      - name: customers_shareable
        source: {type: masked, from: customers, columns: [email, phone]}

`hash` replaces each value by its SHA-256 (joins and distinct counts still work on the hashed
column); `redact` replaces it by the text `[redacted]`, keeping NULLs. The other columns are
passed through. The query is built with sqlglot expressions, so column names are quoted, never pasted.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AliasChoices, Field
from sqlglot import exp

from charter.plugin_api import (
    FieldProblem,
    QueryRelation,
    Relation,
    SourceContext,
    SourceSpec,
    StrList,
    did_you_mean,
)

REDACTED = "[redacted]"


class MaskedSource(SourceSpec):
    """Another dataset with some columns hashed (SHA-256) or redacted, for sharing outside the team."""

    TYPE: ClassVar[str] = "masked"
    type: Literal["masked"] = "masked"
    from_: str = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from",
                       min_length=1)
    """The dataset to mask."""
    columns: StrList = Field(min_length=1)
    """Columns whose values are masked."""
    method: Literal["hash", "redact"] = "hash"
    """`hash`: SHA-256 of the text of the value; `redact`: the text `[redacted]` (NULL stays NULL)."""

    def relation(self, ctx: SourceContext) -> Relation:
        if self.from_ not in ctx.datasets:
            raise FieldProblem(f"no dataset named `{self.from_}` to mask", field=("from",),
                               code="unknown-dataset",
                               hint=did_you_mean(self.from_, ctx.datasets) or "name a dataset of the project")
        if self.from_ == ctx.dataset:
            raise FieldProblem("a dataset cannot mask itself", field=("from",), code="masked-self")
        replacements = [exp.alias_(self._mask(exp.column(name, quoted=True)),
                                   exp.to_identifier(name, quoted=True))
                        for name in dict.fromkeys(self.columns)]
        table = exp.Table(this=exp.to_identifier(self.from_, quoted=True))
        query = exp.select(exp.Star(replace=replacements)).from_(table)
        return QueryRelation(query)

    def _mask(self, column: exp.Column) -> exp.Expression:
        text = exp.cast(column, exp.DataType.build("VARCHAR"))
        if self.method == "hash":
            return exp.SHA2(this=text, length=exp.Literal.number(256))
        return exp.If(this=column.is_(exp.null()), true=exp.null(), false=exp.Literal.string(REDACTED))

    def dependencies(self, ctx: SourceContext, relation: Relation) -> list[str]:
        return [self.from_]
