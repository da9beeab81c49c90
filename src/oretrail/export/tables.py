"""Which tables the columnar export holds, how each is partitioned, and the Arrow type of every column.

The export holds the ledger and every table the rules read (a test runs the embedded scan and checks that
every table its SQL names is here), under the table's own name, so another engine registers each directory as
a view of that name and the rules' statements run unchanged. Partitions are hive-style directories:
`month=YYYY-MM` from one time column of the table (UTC month; `__HIVE_DEFAULT_PARTITION__` where the time is
NULL) and `material=CODE` where the table has a material column. A partition column is in the path only, not
in the files (as every hive reader expects), and `month` is added to the table by the readers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, Integer, String, Table, Text

from oretrail.storage.schema import metadata

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # Hive's name for NULL, read back as NULL by Spark, DuckDB, pyarrow


@dataclass(frozen=True)
class Exported:
    name: str
    month_from: str | None = None  # the column whose UTC month partitions the table
    by_material: bool = False  # partitioned by the `material` column too
    # False for a feed that a load replaces in place without a ledger record (partners' statistics, the watch
    # list, bulletins): an export at the store's ledger position may still hold an older version of it, so
    # `check_current` compares its content, where for the others it compares the position.
    recorded: bool = True

    @property
    def table(self) -> Table:
        return metadata.tables[self.name]

    @property
    def partition_keys(self) -> tuple[str, ...]:
        return (("month",) if self.month_from else ()) + (("material",) if self.by_material else ())

    @property
    def partition_columns(self) -> tuple[str, ...]:
        """The table's columns the partition path is made from, in `partition_keys` order."""
        return ((self.month_from,) if self.month_from else ()) + (("material",) if self.by_material else ())


LEDGER = Exported("ledger", "recorded_at")
# Projections and feeds the rules read: the chain's projections, registry, trade documents, partners'
# statistics, the watch list and the bulletins that add to it, and the supervision records.
PROJECTIONS: tuple[Exported, ...] = (
    Exported("enterprises"),
    Exported("facilities"),
    Exported("events", "event_time"),
    Exported("lots", "created_at", by_material=True),
    Exported("event_lots", "event_time"),
    Exported("positions"),
    Exported("shipments", "dispatched_at"),
    Exported("genealogy"),
    Exported("exports", "event_time"),
    Exported("licences", "valid_from", by_material=True),
    Exported("declarations", "date"),
    Exported("mirror", "period", recorded=False),
    Exported("watchlist", recorded=False),
    Exported("bulletins", recorded=False),
    Exported("monthly_reports", "period"),
    Exported("inspections", "date"),
    Exported("corrective_actions", "opened_on"),
    Exported("action_closures", "closed_on"),
    Exported("facility_statuses", "since"),
)
TABLES: tuple[Exported, ...] = (LEDGER, *PROJECTIONS)
BY_NAME = {t.name: t for t in TABLES}


def arrow_type(column_type: object) -> pa.DataType:
    """Integers are int64 and times microsecond timestamps without a zone (naive UTC, as stored): Spark reads
    those as TIMESTAMP_NTZ, DuckDB as TIMESTAMP, so no engine shifts them by a session's zone."""
    for kind, arrow in (
        (Boolean, pa.bool_()),
        (BigInteger, pa.int64()),
        (Integer, pa.int64()),
        (Float, pa.float64()),
        (DateTime, pa.timestamp("us")),
        (Date, pa.date32()),
        (Text, pa.string()),
        (String, pa.string()),
    ):
        if isinstance(column_type, kind):
            return arrow
    raise TypeError(f"no Arrow type for {column_type!r}")


def arrow_schema(exported: Exported, *, with_partitions: bool = False) -> pa.Schema:
    """The columns of the files: the table's, less those in the partition path (unless asked for)."""
    skip = set() if with_partitions else set(exported.partition_keys)
    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in exported.table.c if c.name not in skip])
