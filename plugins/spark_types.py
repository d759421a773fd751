"""Spark types in Charter's vocabulary, and the casts that make Spark's results typed like DuckDB's.

Charter names types the way DuckDB prints them (``BIGINT``, ``VARCHAR``, ``TIMESTAMP``,
``DECIMAL(10,2)``...) so that a spec's declared types and a schema rule mean the same on every engine.
Spark computes some expressions in another type than DuckDB (``date_trunc`` gives a zoned timestamp,
``avg`` of a decimal a decimal, ``sum`` of integers a BIGINT where DuckDB has a HUGEINT); the engine
aligns Spark's columns to the types DuckDB would produce whenever the cast cannot change a value.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from charter.plugins.spark_sql import TranslationError, map_types

if TYPE_CHECKING:
    import pyarrow as pa

_SIMPLE = {
    "ByteType": "TINYINT", "ShortType": "SMALLINT", "IntegerType": "INTEGER", "LongType": "BIGINT",
    "FloatType": "FLOAT", "DoubleType": "DOUBLE", "StringType": "VARCHAR", "VarcharType": "VARCHAR",
    "CharType": "VARCHAR", "BooleanType": "BOOLEAN", "DateType": "DATE", "TimestampNTZType": "TIMESTAMP",
    "TimestampType": "TIMESTAMP WITH TIME ZONE", "BinaryType": "BLOB", "NullType": '"NULL"',
    "DayTimeIntervalType": "INTERVAL", "YearMonthIntervalType": "INTERVAL", "CalendarIntervalType": "INTERVAL",
    "TimeType": "TIME", "VariantType": "VARIANT",
}
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT")
TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


def spark_type_name(data_type: Any) -> str:
    """The DuckDB-style name of a pyspark ``DataType`` (``LongType()`` -> ``BIGINT``)."""
    kind = type(data_type).__name__
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == "DecimalType":
        return f"DECIMAL({data_type.precision},{data_type.scale})"
    if kind == "ArrayType":
        return f"{spark_type_name(data_type.elementType)}[]"
    if kind == "MapType":
        return f"MAP({spark_type_name(data_type.keyType)}, {spark_type_name(data_type.valueType)})"
    if kind == "StructType":
        fields = ", ".join(f"{_field_name(f.name)} {spark_type_name(f.dataType)}" for f in data_type.fields)
        return f"STRUCT({fields})"
    return data_type.simpleString().upper()


def _field_name(name: str) -> str:
    return name if _PLAIN_NAME.match(name) else '"' + name.replace('"', '""') + '"'


def duckdb_to_spark_ddl(type_name: str) -> str:
    """A DuckDB type name as Spark DDL (``TIMESTAMP`` -> ``TIMESTAMP_NTZ``, ``HUGEINT`` -> ``DECIMAL(38,0)``).

    Raises ``ValueError`` for a type Spark has no equivalent of.
    """
    tree = exp.DataType.build(type_name, dialect="duckdb")
    try:
        return map_types(tree).sql("spark")
    except TranslationError as exc:
        raise ValueError(exc.message) from None


def view_cast(spark_name: str, duck_name: str) -> bool:
    """Whether a Spark column typed ``spark_name`` may be cast to ``duck_name`` without changing a value."""
    if spark_name == duck_name:
        return False
    if spark_name in TIMESTAMPS and duck_name in TIMESTAMPS:
        return True  # the session time zone is UTC: the same instant, shown as DuckDB types it
    if spark_name == "DATE" and duck_name in TIMESTAMPS:
        return True
    if spark_name in INTEGERS and duck_name in INTEGERS:
        return True  # widening is exact; narrowing fails loudly under ANSI mode rather than wrapping
    if (spark_name.startswith("DECIMAL") or spark_name == "FLOAT") and duck_name in ("DOUBLE", "FLOAT"):
        return True
    if spark_name.startswith("DECIMAL") and duck_name.startswith("DECIMAL"):
        return _scale(duck_name) >= _scale(spark_name)
    return spark_name in INTEGERS and duck_name.startswith("DECIMAL")


def _scale(decimal_name: str) -> int:
    match = re.search(r",\s*(\d+)\)", decimal_name)
    return int(match.group(1)) if match else 0


def _family(arrow_type: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "number"
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "time"
    if pa.types.is_struct(arrow_type):
        return "struct"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return "list"
    if pa.types.is_map(arrow_type):
        return "map"
    return str(arrow_type)


def align_arrow(table: pa.Table, expected: pa.Schema | None) -> pa.Table:
    """Rename Spark's result columns to DuckDB's and cast them to DuckDB's Arrow types where that is exact.

    Casts stay within a family (numbers, date/times, structs, lists, maps) and are checked by Arrow (``safe``):
    a value that would change (a fraction cast to an integer, an overflow) keeps Spark's type instead.
    """
    import pyarrow as pa

    if expected is None or len(expected) != table.num_columns:
        return table
    columns = []
    for column, target in zip(table.columns, expected, strict=True):
        if column.type != target.type and _family(column.type) == _family(target.type):
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                column = column.cast(target.type, safe=True)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=expected.names)
