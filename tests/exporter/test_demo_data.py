"""The demo data: deterministic, hostile, spread over 2024 in index order."""

from __future__ import annotations

import itertools
import subprocess
import sys
from typing import Any

import psycopg
import pytest

from devstack import demo_data

DEMO_DATA = (sys.executable, "-m", "devstack.demo_data")


def table_digest(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(
        "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM transactions AS t"
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_the_same_row_count_gives_the_same_table(
    database_url: str, db: psycopg.Connection[Any]
) -> None:
    demo_data.load(database_url, 5_000, drop=True)
    first = table_digest(db)

    demo_data.load(database_url, 5_000, drop=True)

    assert table_digest(db) == first


def test_rows_span_2024_in_index_order(database_url: str, db: psycopg.Connection[Any]) -> None:
    assert demo_data.load(database_url, 10_000, drop=True) == 10_000

    low, high = db.execute(
        "SELECT min(created_at AT TIME ZONE 'UTC'), max(created_at AT TIME ZONE 'UTC')"
        " FROM transactions"
    ).fetchone() or (None, None)
    assert str(low) == "2024-01-01 00:00:00"
    assert str(high).startswith("2024-12-31 23:")
    # Physical order follows (created_at, id): the planner's correlation is 1.
    (correlation,) = db.execute(
        "SELECT correlation FROM pg_stats WHERE tablename = 'transactions'"
        " AND attname = 'created_at'"
    ).fetchone() or (None,)
    assert correlation is not None and correlation > 0.99
    indexes = {r[0] for r in db.execute("SELECT indexdef FROM pg_indexes").fetchall()}
    assert any("(created_at, id)" in definition for definition in indexes)


def test_every_hostile_case_and_null_occurs(db: psycopg.Connection[Any]) -> None:
    counts = db.execute(
        r"""
        SELECT
          count(*) FILTER (WHERE description LIKE '%,%'),
          count(*) FILTER (WHERE description LIKE '%"%'),
          count(*) FILTER (WHERE description LIKE E'%\n%'),
          count(*) FILTER (WHERE description LIKE E'%\r\n%'),
          count(*) FILTER (WHERE description ~ '[^\x01-\x7f]'),
          count(*) FILTER (WHERE description IS NULL),
          count(*) FILTER (WHERE description = ''),
          count(*) FILTER (WHERE customer_email IS NULL),
          count(*) FILTER (WHERE customer_email = ''),
          count(DISTINCT merchant_id),
          count(*) FILTER (WHERE left(description, 1) = '='),
          count(*) FILTER (WHERE left(description, 1) = '+'),
          count(*) FILTER (WHERE left(description, 1) = '-'),
          count(*) FILTER (WHERE left(description, 1) = '@'),
          count(*) FILTER (WHERE left(description, 1) = chr(9)),
          count(*) FILTER (WHERE left(description, 1) = chr(13)),
          count(DISTINCT status)
        FROM transactions
        """
    ).fetchone()

    assert counts is not None and all(count > 0 for count in counts)
    assert counts[-1] == 4


def test_every_row_belongs_to_one_of_four_merchants_no_two_sets_alike(
    db: psycopg.Connection[Any],
) -> None:
    shares = dict(
        db.execute("SELECT merchant_id, count(*) FROM transactions GROUP BY 1").fetchall()
    )
    assert set(shares) == set(demo_data.MERCHANTS) and len(shares) >= 3
    assert sum(shares.values()) == 2000
    # No two sets of merchants hold the same number of rows (shares are powers of two).
    subsets = [
        frozenset(c) for n in range(1, 5) for c in itertools.combinations(demo_data.MERCHANTS, n)
    ]
    sizes = [sum(shares[m] for m in subset) for subset in subsets]
    assert len(set(sizes)) == len(subsets)


def test_refuses_to_add_to_a_loaded_table(database_url: str) -> None:
    with pytest.raises(demo_data.TableNotEmpty, match="already has 2000 rows"):
        demo_data.load(database_url, 10)


def test_command_line_loads_rows(database_url: str, db: psycopg.Connection[Any]) -> None:
    completed = subprocess.run(
        [*DEMO_DATA, "--database-url", database_url, "--rows", "1234", "--drop"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("loaded 1234 rows into transactions in ")
    assert db.execute("SELECT count(*) FROM transactions").fetchone() == (1234,)
