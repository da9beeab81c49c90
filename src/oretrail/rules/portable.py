"""The few SQL spellings the engines disagree on, each with one branch per engine, in one place.

Every rule's set-based part is a SQLAlchemy Core statement, and Core already renders the same statement for
SQLite, PostgreSQL, DuckDB and Spark SQL. What it cannot render the same are the functions SQL never
standardised: aggregating strings, seconds between two times, a time's month in another time zone. A rule
asks here, by the dialect's name, and never branches on the engine itself, so a new engine is one more branch
of these functions and not an edit of every rule.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Integer, cast, func, literal, literal_column

SEP = "\x1f"  # unit separator: cannot occur in a URI or a document number
ENGINES = ("sqlite", "postgresql", "duckdb", "spark")
# Engines that read the columnar export: no indexes, every statement a pass over the columns it names, so a
# read the row stores answer from three partial indexes is cheaper here as one pass over the table.
COLUMNAR = ("duckdb", "spark")
BEIJING = timedelta(hours=8)


def _unknown(dialect: str) -> ValueError:
    return ValueError(f"no SQL spelling for engine {dialect!r}; the engines are {', '.join(ENGINES)}")


def text_agg(dialect: str, column: ColumnElement[Any]) -> ColumnElement[str]:
    """All non-NULL values of a group in one string joined by SEP; NULL for a group with none (as SQL's
    aggregates give). The order is each engine's own: readers split and sort (`base.split_agg`, `capped`)."""
    if dialect in ("postgresql", "duckdb"):
        return func.string_agg(column, literal(SEP))
    if dialect == "sqlite":
        return func.group_concat(column, SEP)
    if dialect == "spark":
        return func.nullif(func.concat_ws(SEP, func.sort_array(func.collect_list(column))), "")
    raise _unknown(dialect)


def seconds_between(dialect: str, start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[Any]:
    """Whole seconds from start to end (naive UTC times). Integer seconds, because fractional-day arithmetic
    makes a receipt exactly 15 days later come out as 15.000000001 days on one engine and not the other."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    if dialect == "sqlite":
        return cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
    if dialect == "duckdb":  # second boundaries crossed: the difference of the truncated epochs, as SQLite's
        return func.date_diff("second", start, end)
    if dialect == "spark":  # the session's time zone is UTC (engines/spark.py), so the cast keeps the instant
        return func.unix_seconds(cast(end, DateTime)) - func.unix_seconds(cast(start, DateTime))
    raise _unknown(dialect)


def local_month(dialect: str, column: ColumnElement[Any]) -> ColumnElement[str]:
    """`YYYYMM` of a naive UTC time in Beijing (UTC+8): enterprises close their books in local time."""
    if dialect == "postgresql":
        return func.to_char(column + literal(BEIJING), "YYYYMM")
    if dialect == "sqlite":
        return func.strftime("%Y%m", column, "+8 hours")
    if dialect == "duckdb":
        return func.strftime(column + literal_column("INTERVAL 8 HOUR"), "%Y%m")
    if dialect == "spark":
        return func.date_format(column + literal_column("INTERVAL 8 HOURS"), "yyyyMM")
    raise _unknown(dialect)
