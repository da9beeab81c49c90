"""The rules on Apache Spark, over the columnar export (`oretrail scan --engine spark --input DIR`).

Each table of the export becomes a temporary view under its own name; each rule statement is compiled to Spark
SQL (`spark_sql`) and runs with `spark.sql()`; the rows come back through Arrow into the read-only connection
the rule code reads (`rows.Statements`). Spark decides nothing a rule does not: the grouping, joins and
windows are the statement's, the per-subject judgement is the rule's Python, in this process.

Local mode starts no network service a reader could reach: the UI is off and the driver binds to the
loopback address; the jars are those inside the pyspark package. A cluster URL (`--master spark://…`) leaves
the driver's address to Spark.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from oretrail.engines.rows import Statements
from oretrail.engines.spark_sql import SparkDialect, to_spark_sql
from oretrail.export.parquet import read_manifest
from oretrail.export.tables import TABLES

LOCAL = "local[2]"
# What the rules need of the session: times in UTC (a CAST to TIMESTAMP keeps the stored instant), partition
# values kept as text (a material code must not turn into a number), and room for the genealogy's recursion.
_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.cteRecursionLevelLimit": "1000",
    "spark.sql.cteRecursionRowLimit": "-1",
}
_LOCAL_CONF = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}


@contextmanager
def session(master: str = LOCAL) -> Iterator[Any]:
    from pyspark.sql import SparkSession  # imported late: only a Spark scan pays for starting py4j

    if master.startswith("local"):  # else the JVM binds to whatever address the host name resolves to
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName("oretrail-scan")
    for key, value in (_CONF | (_LOCAL_CONF if master.startswith("local") else {})).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


def register(spark: Any, root: Path, *, cache: bool = True) -> None:
    """Every exported table as a temporary view of its name; refuses a directory that is not an export.

    `cache`: keep each table in Spark's memory once read. A scan runs some forty statements over the same
    tables; read from Parquet each time, listing and opening the partition files costs more than the query."""
    read_manifest(root)  # a clear error for a directory without the manifest or of another format
    for exported in TABLES:
        path = root / exported.name
        if not path.is_dir():
            raise FileNotFoundError(f"{path}: table {exported.name} is missing from the export")
        frame = spark.read.parquet(str(path))
        if cache:
            frame = frame.cache()
        frame.createOrReplaceTempView(exported.name)


def connection(spark: Any) -> Statements:
    def run(statement: Any, params: dict[str, Any] | None) -> tuple[list[str], list[tuple[Any, ...]]]:
        table = spark.sql(to_spark_sql(statement, params)).toArrow()
        columns = [c.to_pylist() for c in table.columns]
        return table.column_names, list(zip(*columns, strict=True)) if columns else []

    return Statements(SparkDialect(), run)
