"""The 1.110 migration set (packaged 0.4.110 + tests/data/migrations-1.110-extra) deploys and gives the outbox."""

from __future__ import annotations

from pathlib import Path

from fix_outbox import EXTRA, SPEND_LOG_DELIVERY
from helpers import Database, invoke


def test_the_1110_set_is_packaged_plus_extra_in_order(migrations_1110: Path) -> None:
    names = sorted(p.name for p in migrations_1110.iterdir() if p.is_dir())
    extra = sorted(p.name for p in EXTRA.iterdir() if p.is_dir())
    assert names[-len(extra):] == extra and names[-1] == SPEND_LOG_DELIVERY


def test_outbox_db_has_the_spend_log_delivery_table_and_not_the_109_ledger(outbox_db: Database) -> None:
    columns = outbox_db.query(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name = 'LiteLLM_SpendLogDelivery' ORDER BY ordinal_position")
    assert [c["column_name"] for c in columns] == [
        "delivery_id", "request_id", "state", "accounting_payload", "is_batch", "attempts",
        "next_attempt_at", "applied_at", "last_error", "created_at"]
    assert outbox_db.value("SELECT enum_range(NULL::\"AccountingDeliveryState\")::text") == "{pending,applied,parked}"
    assert outbox_db.value("SELECT to_regclass('\"LiteLLM_AccountingEvent\"')") is None
    assert outbox_db.value("SELECT to_regclass('\"LiteLLM_ClaudeCodePluginVersion\"')") is not None


def test_migrate_status_on_outbox_db_is_up_to_date(outbox_db: Database, migrations_1110: Path) -> None:
    result = invoke(["--database-url", outbox_db.url, "migrate", "status", "--json",
                     "--migrations-dir", str(migrations_1110)])
    assert result.code == 0, result
    total = sum(1 for p in migrations_1110.iterdir() if p.is_dir())
    assert result.json()["counts"] == {"applied": total}
