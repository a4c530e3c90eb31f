"""Engine and session factory, and schema migrations through Alembic."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, Connection, Engine, any_, bindparam, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

if TYPE_CHECKING:
    from alembic.config import Config

SessionFactory = sessionmaker[Session]

# Where a session keeps the secret activation codes are hashed with (services.codes).
CODE_SECRET_KEY = "helpdesk.code_secret"
# For the demo and the tests only: production sets HELPDESK_CODE_SECRET (README).
DEFAULT_CODE_SECRET = "helpdesk-demo-code-secret"
# An execution option: transactions of sessions that only read (SQLite begins them
# DEFERRED, so they never wait behind a writer; PostgreSQL makes them READ ONLY).
READ_ONLY = "helpdesk_read_only"


def make_engine(url: str, *, pool_size: int | None = None, redoable: bool = False) -> Engine:
    """An engine for `url`; SQLite gets the pragmas that make it behave like a shared store.

    `pool_size`: connections kept open (PostgreSQL), one per thread that uses the engine,
    so that none is opened and closed again under load. `redoable`: for work that is
    redone if lost (the Slack inbox workers: their delivery stays in the inbox until its
    own commit is kept) — commits do not wait for the disk flush, so they do not queue
    the ack path's own durable commits behind theirs. A crash of our processes loses
    nothing either way; only a crash of the machine can lose the last fraction of a second.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine, synchronous="NORMAL" if redoable else "FULL")
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True}
    if pool_size is not None:
        options["pool_size"] = pool_size
    if redoable:
        options["connect_args"] = {"options": "-c synchronous_commit=off"}
    return create_engine(url, **options)


def _configure_sqlite(engine: Engine, *, synchronous: str = "FULL") -> None:
    # pysqlite opens transactions lazily and lets SELECTs run outside them, which breaks
    # "read then write" atomicity between processes; take control of BEGIN ourselves
    # (see SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            # In WAL mode a reader works on a snapshot and never waits for the writer.
            conn.exec_driver_sql("BEGIN")
            return
        # IMMEDIATE takes the write lock up front: two processes racing for the same
        # activation code serialise here instead of failing with "database is locked".
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.info[_CHANGES_AT_BEGIN] = conn.connection.dbapi_connection.total_changes


def make_session_factory(
    engine: Engine, *, code_secret: str | None = None, read_only: bool = False
) -> SessionFactory:
    """Sessions on `engine`. Writing sessions serialise on SQLite (BEGIN IMMEDIATE); with
    `read_only` they never wait for a writer, and PostgreSQL refuses any write in them."""
    bind = engine
    if read_only:
        options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        bind = engine.execution_options(**options)
    return sessionmaker(
        bind,
        expire_on_commit=False,
        info={CODE_SECRET_KEY: code_secret or DEFAULT_CODE_SECRET},
    )


_CHANGES_AT_BEGIN = "helpdesk.changes_at_begin"


def commit_at_once(session: Session, write: Callable[[Connection], object]) -> bool:
    """SQLite: `write`, committed before the session's transaction lets the write lock go.

    For a record that must survive the caller's rollback and be seen by the next writer
    (a failed code attempt). Only when the transaction has written nothing yet and is in
    no savepoint: then committing loses nothing, and the transaction goes on in a fresh
    one. False (nothing done) otherwise, and on PostgreSQL.
    """
    if session.get_bind().dialect.name != "sqlite" or session.in_nested_transaction():
        return False
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    if raw is None or raw.total_changes != connection.info.get(_CHANGES_AT_BEGIN):
        return False
    write(connection)
    raw.execute("COMMIT")
    raw.execute("BEGIN IMMEDIATE")
    connection.info[_CHANGES_AT_BEGIN] = raw.total_changes
    return True


def among(session: Session, column: Any, values: Collection[Any]) -> Any:
    """`column IN values`; on PostgreSQL as `= ANY(array)`: one parameter instead of one
    per value, so a bulk import's look-ups are one statement the server plans once."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def prefer_indexes(session: Session) -> None:
    """PostgreSQL: look rows up by index for the rest of the transaction.

    A bulk import reads, chunk by chunk, rows of tables it is filling in the same
    transaction; their statistics still say "empty", so the planner picks sequential
    scans and every chunk reads everything written before it (150,000 rows took minutes).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))


def serialize(session: Session, name: str, *, shared: bool = False) -> None:
    """Hold the lock called `name` until the session's transaction ends.

    PostgreSQL lets writers interleave; work that must not (an import and an account
    claiming what it imports, two identical imports) takes the same named lock: shared
    ones run together, an exclusive one alone. SQLite needs nothing: its writing
    transactions begin IMMEDIATE, one at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    session.execute(text(f"SELECT {function}(hashtext(:name))"), {"name": name})


# Alembic is imported only by the functions that migrate: every other command of the CLI
# starts faster without it.


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


class DatabaseNotReady(Exception):
    """The database is missing tables or lags behind the code's migrations."""


def check_schema(engine: Engine, url: str) -> None:
    """Refuse to work on a database that `helpdesk db upgrade` has not brought up to date."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise DatabaseNotReady(
            f"the database is not migrated (at {current or 'nothing'}, code needs {head}): "
            "run `helpdesk db upgrade` first"
        )
