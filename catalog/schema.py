"""The catalog's tables, as an ordered list of migrations recorded in ``schema_version``.

A catalog file written by an older Charter is brought up to date the first time a newer one writes
it; each migration runs in its own transaction together with the row that records it, so a migration
interrupted half-way leaves the previous version intact. A file written by a newer Charter is refused
(rather than misread) with a hint to rebuild it: the catalog is a cache of the specs plus run history.

JSON payloads are stored as VARCHAR holding JSON text, so the file opens without any DuckDB extension.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from charter.core.diagnostics import CharterError, error

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _v1_initial(con: duckdb.DuckDBPyConnection) -> None:
    statements = [
        """CREATE TABLE builds (
            build_id INTEGER PRIMARY KEY, specs_hash VARCHAR NOT NULL, project_name VARCHAR,
            project_root VARCHAR, built_at TIMESTAMP, charter_version VARCHAR, objects INTEGER,
            columns INTEGER, edges INTEGER, duration_ms DOUBLE, diagnostics VARCHAR)""",
        """CREATE TABLE objects (
            build_id INTEGER NOT NULL, kind VARCHAR NOT NULL, name VARCHAR NOT NULL, label VARCHAR,
            description VARCHAR, owner VARCHAR, owners VARCHAR[], domain VARCHAR, tags VARCHAR[],
            status VARCHAR, certified_by VARCHAR, certified_on DATE, certification_expires DATE,
            tier VARCHAR, sponsor VARCHAR, type VARCHAR, dataset VARCHAR, format VARCHAR, unit VARCHAR,
            decimals INTEGER, file VARCHAR, line INTEGER,
            content_hash VARCHAR, spec VARCHAR, details VARCHAR, fingerprint VARCHAR,
            PRIMARY KEY (build_id, kind, name))""",
        """CREATE TABLE columns (
            build_id INTEGER NOT NULL, dataset VARCHAR NOT NULL, position INTEGER, name VARCHAR NOT NULL,
            type VARCHAR, declared_type VARCHAR, description VARCHAR, tags VARCHAR[], inherited_tags VARCHAR[],
            nullable BOOLEAN, documented BOOLEAN,
            PRIMARY KEY (build_id, dataset, name))""",
        """CREATE TABLE lineage (
            build_id INTEGER NOT NULL, src_kind VARCHAR NOT NULL, src_name VARCHAR NOT NULL, src_column VARCHAR,
            dst_kind VARCHAR NOT NULL, dst_name VARCHAR NOT NULL, dst_column VARCHAR, relation VARCHAR)""",
        """CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY, project_name VARCHAR, command VARCHAR, engine VARCHAR,
            started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR NOT NULL, outcome VARCHAR,
            selection VARCHAR[], build_id INTEGER, pid INTEGER, host VARCHAR, checks INTEGER,
            failures INTEGER, warnings INTEGER, fingerprints VARCHAR)""",
        """CREATE TABLE check_results (
            run_id VARCHAR NOT NULL, seq INTEGER NOT NULL, suite VARCHAR, dataset VARCHAR, rule VARCHAR,
            rule_type VARCHAR, dimension VARCHAR, severity VARCHAR, outcome VARCHAR, element_count BIGINT,
            missing_count BIGINT, unexpected_count BIGINT, unexpected_percent DOUBLE,
            unexpected_percent_total DOUBLE, observed_value VARCHAR, threshold VARCHAR, message VARCHAR,
            samples VARCHAR, sql VARCHAR, duration_ms DOUBLE, details VARCHAR, recorded_at TIMESTAMP,
            PRIMARY KEY (run_id, seq))""",
        """CREATE TABLE metric_values (
            run_id VARCHAR NOT NULL, metric VARCHAR NOT NULL, grain VARCHAR, period VARCHAR, value DOUBLE,
            target_met BOOLEAN, recorded_at TIMESTAMP)""",
        """CREATE TABLE contract_verdicts (
            verdict_id VARCHAR PRIMARY KEY, contract VARCHAR NOT NULL, run_id VARCHAR,
            evaluated_at TIMESTAMP, accepted BOOLEAN, content_hash VARCHAR, report_path VARCHAR,
            criteria VARCHAR)""",
        """CREATE TABLE signoffs (
            contract VARCHAR NOT NULL, signed_by VARCHAR NOT NULL, role VARCHAR, signed_at TIMESTAMP NOT NULL,
            content_hash VARCHAR, note VARCHAR, source_file VARCHAR,
            PRIMARY KEY (contract, signed_by, signed_at))""",
        "CREATE INDEX lineage_dst ON lineage (build_id, dst_kind, dst_name)",
        "CREATE INDEX lineage_src ON lineage (build_id, src_kind, src_name)",
        "CREATE INDEX metric_values_metric ON metric_values (metric)",
    ]
    for statement in statements:
        con.execute(statement)


def _v2_metric_definition_hash(con: duckdb.DuckDBPyConnection) -> None:
    """`metric_values.definition_hash`: the content hash of the metric's spec when the value was computed.

    Values recorded before it are given the hash of the metric in the build their run recorded (the
    catalog is refreshed from the specs when a run starts); a value whose run has no build, or whose
    build lacks the metric, keeps NULL, and readers leave NULL-hash values out of every series.
    """
    con.execute("ALTER TABLE metric_values ADD COLUMN definition_hash VARCHAR")
    con.execute("""UPDATE metric_values SET definition_hash = o.content_hash
                   FROM runs r, objects o
                   WHERE metric_values.run_id = r.run_id AND o.build_id = r.build_id AND o.kind = 'metric'
                     AND o.name = metric_values.metric""")


MIGRATIONS: list[Migration] = [
    Migration(1, "builds, spec objects, columns, lineage, runs, check results, metric values, contract "
                 "verdicts and sign-offs", _v1_initial),
    Migration(2, "metric values carry the definition hash of their metric", _v2_metric_definition_hash),
]
"""Every migration, in the order they apply. Append; never edit or reorder a released one."""


def latest_version() -> int:
    return MIGRATIONS[-1].version if MIGRATIONS else 0


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of an open catalog (0 for an empty file)."""
    from charter.catalog.connection import scalar

    if not scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' "
                       "AND table_schema = 'main'"):
        return 0
    version = scalar(con, "SELECT max(version) FROM schema_version")
    return int(version) if isinstance(version, int) else 0


def too_new(version: int) -> CharterError:
    return CharterError(error(
        f"the catalog has schema version {version}, newer than this Charter understands ({latest_version()})",
        code="catalog-too-new", hint="upgrade Charter, or delete the catalog file and run `charter catalog build`"))


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every pending migration, each in its own transaction. Returns the versions applied."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description VARCHAR, "
                "applied_at TIMESTAMP DEFAULT current_timestamp)")
    version = current_version(con)
    if version > latest_version():
        raise too_new(version)
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version <= version:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            migration.apply(con)
            con.execute("INSERT INTO schema_version (version, description) VALUES (?, ?)",
                        [migration.version, migration.description])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        applied.append(migration.version)
    return applied


def check_readable(con: duckdb.DuckDBPyConnection) -> int:
    """For readers: the schema version, refusing an empty or too-new catalog."""
    version = current_version(con)
    if version > latest_version():
        raise too_new(version)
    if version == 0:
        raise CharterError(error("the catalog file is empty (no build was ever completed)", code="catalog-empty",
                                 hint="run `charter catalog build`"))
    return version
