"""Seeding LiteLLM rows for the budget tests: one helper per table, columns by keyword."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from helpers import Database
from psycopg import sql

UTC = timezone.utc
PAST = datetime(2026, 3, 1)  # a budget_reset_at long gone (naive UTC, as LiteLLM stores it)
FUTURE = datetime(2999, 1, 1)


def insert(db: Database, table: str, **columns: Any) -> None:
    names = list(columns)
    db.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder(n) for n in names)), columns)


def key(db: Database, token: str, **columns: Any) -> None:
    insert(db, "LiteLLM_VerificationToken", token=token, key_alias=columns.pop("key_alias", token), **columns)


def user(db: Database, user_id: str, **columns: Any) -> None:
    insert(db, "LiteLLM_UserTable", user_id=user_id, **columns)


def team(db: Database, team_id: str, **columns: Any) -> None:
    insert(db, "LiteLLM_TeamTable", team_id=team_id, **columns)


def tier(db: Database, budget_id: str, **columns: Any) -> None:
    insert(db, "LiteLLM_BudgetTable", budget_id=budget_id, created_by="test", updated_by="test", **columns)


def org(db: Database, organization_id: str, budget_id: str, **columns: Any) -> None:
    insert(db, "LiteLLM_OrganizationTable", organization_id=organization_id,
           organization_alias=columns.pop("organization_alias", organization_id), budget_id=budget_id,
           created_by="test", updated_by="test", **columns)


def end_user(db: Database, user_id: str, **columns: Any) -> None:
    insert(db, "LiteLLM_EndUserTable", user_id=user_id, **columns)


def tag(db: Database, name: str, **columns: Any) -> None:
    insert(db, "LiteLLM_TagTable", tag_name=name, **columns)


def spend_log(db: Database, request_id: str, start: datetime, spend: float, **columns: Any) -> None:
    insert(db, "LiteLLM_SpendLogs", request_id=request_id, call_type="acompletion", spend=spend,
           startTime=start, endTime=columns.pop("end", start + timedelta(seconds=1)), **columns)


def spend(db: Database, table: str, column: str, ident: str) -> float:
    return db.value(sql.SQL("SELECT spend FROM {} WHERE {} = %s").format(sql.Identifier(table), sql.Identifier(column)),
                    (ident,))


def reset_at(db: Database, table: str, column: str, ident: str) -> datetime | None:
    return db.value(sql.SQL("SELECT budget_reset_at FROM {} WHERE {} = %s").format(
        sql.Identifier(table), sql.Identifier(column)), (ident,))
