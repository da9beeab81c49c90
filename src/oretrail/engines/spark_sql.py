"""Spark SQL as a SQLAlchemy dialect: the rules' Core statements compiled to text `spark.sql()` runs.

SQLAlchemy Core already is a portable relational expression; what it needs for Spark is how Spark spells the
few things dialects differ on: backquoted identifiers (every one, since Spark reserves words the schema uses as
column names, such as `date` and `by`), `true`/`false`, `/` as true division, and literals, because Spark
takes no bound parameters, so every value is written into the statement:
- strings with backslash escapes (Spark reads `\\'` and `\\\\`; a doubled quote would end the literal);
- floats as DOUBLE (a bare `1000.0` is a DECIMAL in Spark, and arithmetic with it would come back as Decimal);
- times as TIMESTAMP_NTZ and days as DATE (the export stores naive UTC times, which Spark reads as NTZ).
A CAST to a time (`portable.seconds_between`) is to TIMESTAMP, which the session keeps in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.sql import compiler
from sqlalchemy.sql.selectable import _CompoundSelectKeyword

_UNION = _CompoundSelectKeyword.UNION


class SparkPreparer(compiler.IdentifierPreparer):
    def __init__(self, dialect: DefaultDialect) -> None:
        super().__init__(dialect, initial_quote="`", escape_quote="`")

    def _requires_quotes(self, value: str) -> bool:
        return True


class SparkCompiler(compiler.SQLCompiler):
    def visit_cte(self, cte: Any, **kw: Any) -> Any:  # type: ignore[override]
        """Spark recurses with UNION ALL only. The rules' recursive CTEs (a lot's ancestry) say UNION so that
        SQLite and PostgreSQL stop on a cycle; their readers collect the rows into sets, so duplicates change
        nothing, and on a cycle Spark stops at its recursion limit with an error instead of looping."""
        if not cte.recursive:
            return super().visit_cte(cte, **kw)
        before = self.compound_keywords
        self.compound_keywords = {**before, _UNION: "UNION ALL"}
        try:
            return super().visit_cte(cte, **kw)
        finally:
            self.compound_keywords = before

    def render_literal_value(self, value: Any, type_: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return f"CAST({value!r} AS DOUBLE)"
        if isinstance(value, Decimal):
            return f"CAST('{value}' AS DOUBLE)"
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                raise ValueError(f"{value!r}: the rules compare naive UTC times only")
            return f"TIMESTAMP_NTZ '{value.isoformat(sep=' ')}'"
        if isinstance(value, date):
            return f"DATE '{value.isoformat()}'"
        if isinstance(value, str):
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        raise TypeError(f"no Spark SQL literal for {type(value).__name__} {value!r}")

    def visit_true(self, expr: Any, **kw: Any) -> str:
        return "true"

    def visit_false(self, expr: Any, **kw: Any) -> str:
        return "false"


class SparkTypeCompiler(compiler.GenericTypeCompiler):
    def visit_DATETIME(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP"

    def visit_datetime(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP"

    def visit_INTEGER(self, type_: Any, **kw: Any) -> str:
        return "BIGINT"

    def visit_integer(self, type_: Any, **kw: Any) -> str:
        return "BIGINT"

    def visit_FLOAT(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE"

    def visit_float(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE"

    def visit_string(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    def visit_VARCHAR(self, type_: Any, **kw: Any) -> str:
        return "STRING"


class SparkDialect(DefaultDialect):
    name = "spark"
    statement_compiler = SparkCompiler
    preparer = SparkPreparer  # type: ignore[assignment]
    type_compiler_cls = SparkTypeCompiler
    supports_native_boolean = True
    div_is_floordiv = False
    supports_simple_order_by_label = True
    cte_follows_insert = True


def to_spark_sql(statement: Any, params: dict[str, Any] | None = None) -> str:
    """The statement as one Spark SQL string, with `params` (bound at execution by the rules, such as id
    chunks for an expanding IN) written in as literals."""
    if params:
        statement = statement.params(params)
    return str(statement.compile(dialect=SparkDialect(), compile_kwargs={"literal_binds": True}))
