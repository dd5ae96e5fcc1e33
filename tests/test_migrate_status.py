"""`migrate status` reads the ledger where the migrations go: DIRECT_URL, in DATABASE_URL's schema."""

from __future__ import annotations

from fix_migrate import with_params
from helpers import run_process


def test_schema_of_database_url_applies_to_direct_url(db) -> None:
    """DATABASE_URL names the schema and DIRECT_URL (used for migrations) does not: the ledger is the
    one in DATABASE_URL's schema (the removed status fast path read public's: "up to date" while the
    schema's own ledger had a pending migration)."""
    db.execute("CREATE SCHEMA litellm")
    db.execute("CREATE TABLE litellm._prisma_migrations AS TABLE public._prisma_migrations")
    db.execute("DELETE FROM litellm._prisma_migrations WHERE migration_name = "
               "(SELECT max(migration_name) FROM litellm._prisma_migrations)")
    env = {"DATABASE_URL": with_params(db.url, "schema=litellm"), "DIRECT_URL": db.url}
    pending = run_process(["migrate", "status"], env=env)
    assert pending.returncode == 3, pending
    assert "1 pending" in pending.stdout
    db.execute("INSERT INTO litellm._prisma_migrations SELECT * FROM public._prisma_migrations "
               "WHERE migration_name = (SELECT max(migration_name) FROM public._prisma_migrations)")
    db.execute("DELETE FROM public._prisma_migrations")
    up_to_date = run_process(["migrate", "status"], env=env)
    assert up_to_date.returncode == 0 and up_to_date.stdout.endswith(" applied\n"), up_to_date


def test_through_the_entry_point(db) -> None:
    done = run_process(["--database-url", db.url, "migrate", "status"])
    assert done.returncode == 0 and done.stdout.endswith("applied\n")
    db.execute("DELETE FROM _prisma_migrations WHERE migration_name = '20250326162113_baseline'")
    pending = run_process(["--database-url", db.url, "migrate", "status"])
    assert pending.returncode == 3 and "20250326162113_baseline" in pending.stdout
