"""migrate deploy/status on LiteLLM's real migrations."""

from __future__ import annotations


def test_template_is_at_head_and_status_is_clean(cli, source) -> None:
    result = cli("migrate", "status", "--json")
    assert result.code == 0, result
    payload = result.json()
    assert payload["ledger_exists"] is True
    assert {m["state"] for m in payload["migrations"]} == {"applied"}
    assert len(payload["migrations"]) == len(source.migrations)


def test_second_deploy_does_nothing(cli, db) -> None:
    before = db.value("SELECT count(*) FROM _prisma_migrations")
    result = cli("migrate", "deploy")
    assert result.code == 0, result
    assert "no pending migrations" in result.stdout
    assert db.value("SELECT count(*) FROM _prisma_migrations") == before
