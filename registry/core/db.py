"""Declarative base, engine and session factories shared by every domain package."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from decimal import Decimal

from sqlalchemy import MetaData, String, Table, TypeDecorator, create_engine, event, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic autogenerate and both dialects agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest id every database stores: ids are Integer columns, 32-bit on PostgreSQL (SQLite's
# are 64-bit). A larger id names nothing; sent to PostgreSQL it is an error, not an empty answer.
MAX_ID = 2**31 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # The driver's own implicit transactions break SAVEPOINT and transactional DDL; SQLAlchemy
    # emits BEGIN itself instead (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    # WAL lets readers continue during an import; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _null(value: None) -> None:
    return value


# sqlite3 binds None as NULL only after looking for an adapter for it, and the failed look-up
# (an AttributeError raised and dropped on the way) costs about 0.3 µs a parameter: an ELMO
# import binds three or four NULLs a row, millions of rows. An adapter for NoneType that gives
# None back makes it one dictionary hit; NULL is bound as before.
sqlite3.register_adapter(type(None), _null)


# How long (seconds) a SQLite writer waits for another's transaction to end before it gives up with
# "database is locked" (answered 503 with Retry-After over the API: registry.errors).
SQLITE_BUSY_TIMEOUT = 30.0
# The execution option that starts a SQLite transaction as a reader (a plain, deferred BEGIN):
# see _sqlite_begin. Everything else begins as a writer.
READ_ONLY = "registry_read_only"


def make_engine(url: str, *, busy_timeout: float = SQLITE_BUSY_TIMEOUT, **kwargs) -> Engine:
    """Create an engine; SQLite files get WAL, enforced foreign keys, a busy timeout, and write
    transactions that take the write lock when they begin (see _sqlite_begin)."""
    if url.startswith("sqlite"):
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("timeout", busy_timeout)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection) -> None:
    """A deferred BEGIN reads first and asks for the write lock at its first write; when
    another connection wrote meanwhile, that upgrade fails at once with "database is locked",
    however long the busy timeout (the snapshot it read is stale). So a transaction begins as a
    writer (BEGIN IMMEDIATE: it waits, up to the busy timeout, for the write lock, then holds
    it to the end) unless it was opened read-only (the READ_ONLY execution option: a web
    request that cannot write, which WAL lets read beside the writer)."""
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def unique_violation(error: IntegrityError) -> bool:
    """Whether the database refused a row because its unique key is taken (on PostgreSQL often
    by a concurrent transaction that committed it meanwhile), not for another constraint."""
    orig = error.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


class ExactDecimal(TypeDecorator):
    """A Decimal stored as its text, so SQLite and PostgreSQL give back exactly what was stored
    (SQLite has no decimal type and would round through a binary float)."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return str(value if isinstance(value, Decimal) else Decimal(value))

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[list]
) -> None:
    """Insert rows (lists of Python values in `columns` order, converted in place) through the
    driver's own bulk path: COPY on PostgreSQL, executemany on SQLite. Core's executemany costs
    about three times the driver's per row (performance.md, section 4), which matters to
    imports of millions of rows. Each value goes through its column type's bind processor
    first, so what is stored is exactly what Core would store."""
    dialect = connection.dialect
    for index, name in enumerate(columns):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            _process_column(rows, index, processor)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    driver = connection.connection.driver_connection
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        copying = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        with closing(driver.cursor()) as cursor, cursor.copy(copying) as copy:
            for row in rows:
                copy.write_row(row)
    elif dialect.paramstyle == "qmark":
        values = ", ".join("?" * len(columns))
        with closing(driver.cursor()) as cursor:
            cursor.executemany(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({values})", rows)
    else:
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


# Values whose processed form is remembered within one call (few distinct dates and codes recur
# across many rows): by value for types whose equal values are alike, by identity for the others
# (not Decimal by value: 6 == 6.0, but an exact decimal stores "6" and "6.0" as given; a
# record checker hands out one Decimal object for each text it has read).
_REMEMBERED = frozenset((dt.date, str, int))


def _process_column(rows: list[list], index: int, processor) -> None:
    keeps_none = processor(None) is None
    done: dict = {}
    same: dict[int, object] = {}  # the rows hold every value, so no id is reused meanwhile
    for row in rows:
        value = row[index]
        if value is None and keeps_none:
            continue
        if type(value) in _REMEMBERED:
            processed = done.get(value)
            if processed is None:
                processed = done[value] = processor(value)
        else:
            processed = same.get(id(value))
            if processed is None:
                processed = same[id(value)] = processor(value)
        row[index] = processed


def insert_new(
    connection: Connection,
    table: Table,
    keys: Sequence[str],
    rows: list[dict],
    returning: Sequence[str],
) -> list[tuple]:
    """Insert the rows whose natural key (the unique `keys` columns) is not stored yet, and give
    back `returning` of those really inserted: INSERT ... ON CONFLICT DO NOTHING RETURNING, one
    statement for many rows (SQLAlchemy's insertmanyvalues), never one round trip a row. A row
    another transaction inserted meanwhile is left alone and not returned (on PostgreSQL the
    insert waits for that transaction to end), so two imports of one file both finish: the
    caller looks up what it did not insert itself."""
    if not rows:
        return []
    dialect = connection.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the two databases the registry runs on
        raise NotImplementedError(dialect)
    statement = (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=[table.c[name] for name in keys])
        .returning(*(table.c[name] for name in returning))
    )
    return [tuple(row) for row in connection.execute(statement, rows)]
