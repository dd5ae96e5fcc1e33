"""`provision validate` plans a spec's users a chunk at a time (issue 17: a 50 MB spec in bounded
memory): its answer (problems in order, exit code, objects and changes) is the whole-spec planner's,
whatever the chunk size, with duplicates and clashes between users of different chunks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_dbctl.common.errors import InvalidSpec
from litellm_dbctl.db import config, database
from litellm_dbctl.provision import planner, specs
from litellm_dbctl.provision.plan import Options

SEED = """
INSERT INTO "LiteLLM_UserTable" (user_id, user_email, sso_user_id, teams, models) VALUES
  ('old1', 'old1@example.com', NULL, '{t-db}', '{}'), ('old2', 'old2@example.com', NULL, '{}', '{}'),
  ('old3', 'old3@example.com', 'sso-3', '{}', '{}'), ('old4', 'dup@example.com', NULL, '{}', '{}'),
  ('old5', 'dup@example.com', NULL, '{}', '{}'), ('old6', 'e6@example.com', NULL, '{}', '{}'),
  ('old7', 'e7@example.com', NULL, '{}', '{}');
INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, members_with_roles, admins, members, models) VALUES
  ('t-db', 'dbteam', '[{"user_id": "old1", "user_email": "old1@example.com", "role": "user"}]', '{}', '{}', '{}'),
  ('t-a1', 'twin', '[]', '{}', '{}', '{}'), ('t-a2', 'twin', '[]', '{}', '{}', '{}');
INSERT INTO "LiteLLM_BudgetTable" (budget_id, created_by, updated_by) VALUES ('b-db', 'x', 'x');
INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, budget_id, models, created_by,
  updated_by) VALUES ('o-db', 'dborg', 'b-db', '{}', 'x', 'x');
"""

# Users 0-11 (chunks of 2: each problem below names a user of another chunk).
INVALID: dict[str, Any] = {
    "users": [
        {"user_id": "old1", "user_alias": "A", "teams": ["dbteam", "nope"]},
        {"user_email": "new1@example.com", "teams": [{"team_id": "eng", "role": "admin"}]},
        {"user_id": "new2", "user_email": "NEW1@example.com"},  # duplicate email of user 1
        {"user_email": "old1@example.com"},  # the same existing user as user 0
        {"user_id": "old2", "user_email": "old3@example.com"},  # old3 moves away (user 6): no clash
        {"user_email": "dup@example.com"},  # two users have it
        {"sso_user_id": "sso-3", "user_email": "moved3@example.com"},
        {"user_id": "new3", "teams": ["twin"], "organizations": ["dborg", "no-org"]},
        {"user_id": "old6", "user_email": "e7@example.com"},  # old7's email
        {"user_id": "new4", "user_email": "new4@example.com", "teams": ["eng", "eng-alias"]},
        {"user_id": "new3"},  # duplicate user_id of user 7
        {"user_id": "newer", "sso_user_id": "sso-3", "max_budget": "lots"},
    ],
    "teams": [
        {"team_id": "eng", "team_alias": "eng-alias", "members_with_roles": [
            {"user_email": "new1@example.com", "role": "user"},  # user 1 is an admin
            {"user_id": "new4", "user_email": "other@example.com"},  # not user 9's email
            {"user_id": "implied1"}, {"user_email": "NEW4@example.com", "role": "admin"}]},
        {"team_id": "eng"},
    ],
    "organizations": [{"organization_id": "org-x", "organization_alias": "x",
                       "members_with_roles": [{"user_id": "new3", "role": "org_admin"}]}],
    "keys": [{"key_alias": "k1", "user_id": "new3"}, {"key_alias": "k2", "user_id": "ghost", "team_id": "gone"}],
}
VALID: dict[str, Any] = {
    "users": [
        {"user_id": "old1", "user_alias": "A", "teams": ["dbteam"]},
        {"user_email": "new1@example.com", "teams": [{"team_id": "eng", "role": "admin"}]},
        {"user_email": "OLD2@example.com", "user_alias": "two"},
        {"sso_user_id": "sso-3", "user_email": "moved3@example.com", "organizations": ["dborg"]},
        {"user_id": "old6", "user_email": "e6@example.com"},
        {"user_id": "new4", "user_email": "new4@example.com", "teams": ["eng", "dbteam"]},
        {"user_id": "new5"},
    ],
    "teams": [{"team_id": "eng", "team_alias": "eng-alias", "members_with_roles": [
        {"user_email": "new1@example.com"}, {"user_id": "implied1"}, {"user_email": "old2@example.com", "role": "admin"}]}],
    "organizations": [{"organization_id": "org-x", "organization_alias": "x",
                       "members_with_roles": [{"user_id": "new5", "role": "org_admin"}]}],
    "keys": [{"key_alias": "k1", "user_id": "new5", "team_id": "eng"}],
}


def whole(db: Any, path: Path) -> tuple[list[str] | None, tuple[int, int] | None]:
    """The whole-spec planner's answer: its problems, or its objects and changes."""
    spec = specs.load(str(path), defer=True)
    with database.connect(config.parse(db.url, "test"), command="test") as conn:
        try:
            plan = planner.make_plan(conn, spec, Options())
        except InvalidSpec as exc:
            return list(exc.problems), None
    return None, (len(plan.items), plan.summary().changed)


def validate(cli: Any, path: Path, chunk: int) -> Any:
    return cli("provision", "validate", str(path), env={"DBCTL_TEST_VALIDATE_CHUNK": str(chunk)})


@pytest.mark.parametrize("style", ["yaml", "json-one-line"])
def test_problems_are_the_whole_spec_planners_whatever_the_chunk_size(cli, db, tmp_path, style) -> None:
    db.execute(SEED)
    path = tmp_path / ("spec.yaml" if style == "yaml" else "spec.json")
    path.write_text(yaml.safe_dump(INVALID, sort_keys=False) if style == "yaml" else json.dumps(INVALID))
    problems, _ = whole(db, path)
    assert problems is not None and len(problems) >= 15, problems
    for needle in ("duplicate user_email 'new1@example.com'", "names the same existing user 'old1'",
                   "is already the email of user 'old7'", "duplicate user_id 'new3'", "name different users",
                   "is already a member of team 'eng'", "user 'ghost' exists neither"):
        assert any(needle in p for p in problems), (needle, problems)
    assert not any("'old3'" in p and "email of user" in p for p in problems)  # old3 moves to another email
    outputs = {chunk: validate(cli, path, chunk) for chunk in (1, 2, 3, 5, 100_000)}
    for chunk, result in outputs.items():
        assert result.code == 2, (chunk, result)
        listed = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
        assert listed == problems, chunk
        assert (result.stdout, result.stderr) == (outputs[100_000].stdout, outputs[100_000].stderr), chunk


def test_objects_and_changes_are_the_whole_spec_planners_whatever_the_chunk_size(cli, db, tmp_path) -> None:
    db.execute(SEED.replace("('old5', 'dup@example.com'", "('old5', 'dup5@example.com'"))
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(VALID, sort_keys=False))
    problems, counted = whole(db, path)
    assert problems is None and counted is not None
    objects, changed = counted
    assert objects > changed > 0
    for chunk in (1, 2, 3, 100_000):
        result = validate(cli, path, chunk)
        assert result.code == 0, (chunk, result)
        assert result.stdout.strip() == f"{path}: valid ({objects} objects, {changed} would change)", chunk
        data = json.loads(cli("--json", "provision", "validate", str(path),
                              env={"DBCTL_TEST_VALIDATE_CHUNK": str(chunk)}).stdout)
        assert data == {"valid": True, "objects": objects, "changed": changed}
