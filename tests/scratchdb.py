"""Scratch databases on the test PostgreSQL server: the one way every suite makes and drops one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from devstack.services import with_database


@contextmanager
def scratch_database(
    postgres_url: str, prefix: str, *, template: str | None = None
) -> Iterator[str]:
    """A new, uniquely named database (a copy of `template` when given), dropped on exit even if
    a connection is still open; yields its name. `with_database(postgres_url, name)` is its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(create)
    try:
        yield name
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


__all__ = ["scratch_database", "with_database"]
