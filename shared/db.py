"""Database engines and transactions for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Engine, Table, create_engine, event, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; synchronous=FULL makes a
    # committed event survive a power cut, which the outbox promises.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # pysqlite's deferred BEGIN lets two writers both read, then one fails on
    # upgrade; taking the write lock up front makes writers queue instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _tune_sqlite)

        @event.listens_for(engine, "connect")
        def _disable_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _begin_immediate)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)


def reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """``count`` new primary keys for ``table`` (an integer ``id`` column), for a batch
    insert that must know its rows' ids without RETURNING them row by row.

    PostgreSQL takes them from the column's sequence. SQLite continues after the
    largest id, as SQLite itself would: the transaction holds the database's
    write lock (``BEGIN IMMEDIATE``), so no other writer can take the same ids.
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table, "n": count},
        )
        return [int(value) for value in rows.scalars()]
    largest = session.execute(text(f'SELECT coalesce(max(id), 0) FROM "{table}"')).scalar_one()
    return list(range(int(largest) + 1, int(largest) + 1 + count))


class InsertIfNew:
    """``INSERT ... ON CONFLICT DO NOTHING`` of one row into ``table``, built once for each
    database: calling it inserts the row and says whether it went in (False: a row with
    the same key was there already, and stays as it was)."""

    def __init__(self, table: Table, key: Column[Any]) -> None:
        self._key = key.name
        # RETURNING says whether the row went in; rowcount is not reliable across drivers.
        self._statements = {
            "postgresql": postgresql.insert(table).on_conflict_do_nothing().returning(key),
            "sqlite": sqlite.insert(table).on_conflict_do_nothing().returning(key),
        }

    def __call__(self, session: Session, row: Mapping[str, Any]) -> bool:
        return session.execute(self._statement(session), row).first() is not None

    def each(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> list[bool]:
        """Insert all ``rows`` in one statement; for each, in order, whether it went in (of
        rows with the same key, the first goes in)."""
        if not rows:
            return []
        new = set(session.execute(self._statement(session), list(rows)).scalars())
        went_in = []
        for row in rows:
            key = row[self._key]
            went_in.append(key in new)
            new.discard(key)
        return went_in

    def _statement(self, session: Session) -> Any:
        dialect = session.get_bind().dialect.name
        statement = self._statements.get(dialect)
        if statement is None:  # pragma: no cover - only the two supported databases
            raise RuntimeError(f"unsupported database {dialect}")
        return statement


def once_per_transaction(session: Session, key: str, read: Callable[[Session], T]) -> T:
    """``read(session)``, called once in each of the session's transactions: later calls
    in the same transaction return what the first read. For what a transaction's work
    reads many times and does not change itself (the owner's template edits, the staff
    roster); ``key`` names it in the session's ``info``."""
    transaction = session.get_transaction()
    kept = session.info.get(key)
    if kept is None or kept[0] is not transaction:
        # The transaction object is kept with the value: a later transaction is another.
        kept = (transaction, read(session))
        session.info[key] = kept
    value: T = kept[1]
    return value


COPY_FROM_ROWS = 10
"""From this many rows on, ``insert_rows`` sends them to PostgreSQL with COPY."""


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows of ``table`` (each with the same keys) inside the session's transaction.

    PostgreSQL gets them through COPY, which is several times cheaper per row
    than one INSERT per row; SQLite, which has no COPY, as one executemany.
    Column defaults are not applied: give every column the rows need.
    """
    if not rows:
        return
    bind = session.connection()
    if bind.dialect.name != "postgresql" or len(rows) < COPY_FROM_ROWS:
        session.execute(insert(table), list(rows))
        return
    session.flush()  # rows the ORM still holds go first, as they would with an INSERT
    columns = list(rows[0])
    names = ", ".join(f'"{column}"' for column in columns)
    driver = bind.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row([row[column] for column in columns])


class Database:
    """One service's database: an engine and a session factory, opened lazily.

    Nothing connects at import time, so gunicorn can fork safely; the engine
    is created on first use in each process.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
            self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        return self._engine

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together at the end of the block, or not at all."""
        self.engine  # noqa: B018 - opens the engine and session factory
        assert self._sessions is not None
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessions = None
