"""The `no_untagged_pii` rule: personal data must live only in columns tagged as personal data.

    quality:
      - name: customers_privacy
        dataset: customers
        rules:
          - {type: no_untagged_pii}                       # every text column not tagged pii
          - {type: no_untagged_pii, columns: [notes], kinds: [email, card], severity: warn}

A row fails when one of the scanned columns holds an e-mail address, a phone number or a payment card
number (Luhn-checked) — see `detectors.py` for the exact patterns. By default every text column of the
dataset is scanned except those tagged `pii` or `pii.*` — in the dataset's spec or, as tags travel
along lineage, in a dataset it is derived from: once a column is classified, personal data is expected
there. The rule compiles to one predicate inside Charter's single
scan of the dataset; failing-row samples show only the primary key, so the personal data the rule
found is not copied into results, the catalog or CI logs.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field
from sqlglot import exp

from charter.plugin_api import CompileContext, Project, RowRule, StrList, pii_columns, type_family
from charter_example_plugin.detectors import CARD, KINDS, LUHN_WIDTH, PATTERNS

if TYPE_CHECKING:
    from charter.plugin_api import Diagnostic, RuleContext

Kind = Literal["email", "phone", "card"]


class NoUntaggedPii(RowRule):
    """No e-mail address, phone number or card number in columns that are not tagged as personal data."""

    DEFAULT_DIMENSION: ClassVar[str] = "consistency"
    type: Literal["no_untagged_pii"]
    columns: StrList | None = None
    """Columns to scan (default: every text column not tagged `pii` or `pii.*`)."""
    exclude: StrList = []
    """Columns not to scan (free-text fields known to be safe, for example)."""
    kinds: list[Kind] = Field(default=list(KINDS), min_length=1)
    """What to look for: `email`, `phone`, `card`."""

    def value_column(self) -> str | None:
        return None  # a NULL in a scanned column is simply not personal data; every row is judged

    def columns_used(self) -> list[str]:
        return [*(self.columns or []), *self.exclude]

    def scanned(self, project: Project, dataset: str, schema: dict[str, str]) -> list[str]:
        """The columns this rule scans, given the dataset's inferred schema and the PII tags."""
        if self.columns is not None:
            return list(dict.fromkeys(self.columns))
        tagged = pii_columns(project, dataset)
        return [name for name, kind in schema.items()
                if type_family(kind) == "text" and name not in tagged and name not in self.exclude]

    def failing(self, ctx: CompileContext) -> exp.Expression:
        columns = self.scanned(ctx.project, ctx.dataset.name, ctx.schema)
        kinds = list(dict.fromkeys(self.kinds))
        found = [contains(self._text(ctx, column), kind) for column in columns for kind in kinds]
        return exp.or_(*found) if found else exp.false()

    def _text(self, ctx: CompileContext, column: str) -> exp.Expression:
        value = ctx.column(column)
        if ctx.column_family(column) == "text":
            return value
        return exp.cast(value, exp.DataType.build("VARCHAR"))

    def sample_columns(self, ctx: CompileContext) -> list[str]:
        return []  # the primary key locates the rows; showing the offending values would leak them

    def expectation(self) -> str:
        return f"no {', '.join(dict.fromkeys(self.kinds))} outside columns tagged pii"

    def check(self, ctx: RuleContext) -> list[Diagnostic]:
        out = super().check(ctx)
        tagged = pii_columns(ctx.project, ctx.dataset.name)
        for index, column in enumerate(self.columns or []):
            if column in tagged:
                out.append(ctx.error(f"column `{column}` is tagged as personal data; this rule checks the "
                                     "columns that are not", ("columns", index), code="rule-pii-tagged",
                                     hint="remove it from `columns`, or remove its pii tag if it is wrong"))
        return out


def contains(text: exp.Expression, kind: str) -> exp.Expression:
    """A predicate TRUE when ``text`` holds personal data of ``kind``."""
    pattern = exp.Literal.string(PATTERNS[kind])
    shaped = exp.RegexpLike(this=text.copy(), expression=pattern)
    if kind != "card":
        return shaped
    candidate = exp.RegexpExtract(this=text.copy(), expression=exp.Literal.string(CARD),
                                  group=exp.Literal.number(0))
    digits = exp.RegexpReplace(this=candidate, expression=exp.Literal.string("[^0-9]"),
                               replacement=exp.Literal.string(""), modifiers=exp.Literal.string("g"))
    return exp.and_(shaped, luhn_valid(digits))


def luhn_valid(digits: exp.Expression) -> exp.Expression:
    """A predicate TRUE when a string of at most 19 digits passes the Luhn checksum.

    Written with portable functions only (LPAD, SUBSTRING, CAST, CASE), so every engine runs it: the
    digits are left-padded with zeros (which add nothing to the sum) and each of the 19 positions is
    read; every second digit from the right is doubled, minus 9 when that gives two digits.
    """
    padded = exp.func("LPAD", digits, exp.Literal.number(LUHN_WIDTH), exp.Literal.string("0"))
    terms: list[exp.Expression] = []
    for position in range(1, LUHN_WIDTH + 1):
        digit = exp.cast(exp.Substring(this=padded.copy(), start=exp.Literal.number(position),
                                       length=exp.Literal.number(1)), exp.DataType.build("INT"))
        if (LUHN_WIDTH - position) % 2 == 1:
            doubled = exp.Mul(this=digit, expression=exp.Literal.number(2))
            large = exp.GTE(this=digit.copy(), expression=exp.Literal.number(5))
            minus_nine = exp.Sub(this=doubled.copy(), expression=exp.Literal.number(9))
            digit = exp.Case().when(large, minus_nine).else_(doubled)
        terms.append(exp.paren(digit) if isinstance(digit, exp.Case) else digit)
    total = functools.reduce(operator.add, terms)
    return exp.EQ(this=exp.Mod(this=exp.paren(total), expression=exp.Literal.number(10)),
                  expression=exp.Literal.number(0))
