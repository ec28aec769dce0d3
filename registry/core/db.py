"""Declarative base, engine and session factories shared by every domain package."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import MetaData, String, Table, TypeDecorator, create_engine, event, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic autogenerate and both dialects agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite files get WAL and enforced foreign keys."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")


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
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple]
) -> None:
    """Insert rows (tuples of Python values in `columns` order) through the driver's own bulk
    path: COPY on PostgreSQL, executemany on SQLite. Core's executemany costs about three times
    the driver's per row (performance.md, section 4), which matters to imports of millions of
    rows. Each value goes through its column type's bind processor first, so what is stored is
    exactly what Core would store."""
    dialect = connection.dialect
    processors = [
        (index, processor, processor(None) is None)
        for index, name in enumerate(columns)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if processors:
        rows = (_processed(row, processors) for row in rows)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    if dialect.paramstyle == "qmark":
        values = ", ".join("?" * len(columns))
        connection.exec_driver_sql(
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({values})", list(rows)
        )
        return
    connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def _processed(row: tuple, processors: list) -> tuple:
    values = list(row)
    for index, processor, keeps_none in processors:
        value = values[index]
        if value is not None or not keeps_none:
            values[index] = processor(value)
    return tuple(values)
