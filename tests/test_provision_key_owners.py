"""A spec key's `user_id` names its owner as a user is named everywhere else (`key create --user`,
memberships): by user_id, SSO id or email (case-insensitive), among the spec's users and the
database's; an email two users share, or a name nobody has, is exit 2 naming the line."""

from __future__ import annotations

from pathlib import Path

from fix_provision import write
from helpers import Database


def owners(db: Database) -> dict[str, str]:
    return {r["key_alias"]: r["user_id"] for r in db.query('SELECT key_alias, user_id FROM "LiteLLM_VerificationToken"')}


def test_a_key_owner_given_by_email_or_sso_id_is_that_users_id(cli, db: Database, tmp_path: Path) -> None:
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id, user_email, sso_user_id)
                  VALUES ('u-ada', 'Ada@Example.com', 'okta|ada')""")
    spec = write(tmp_path, """\
users:
  - user_email: grace@example.com
keys:
  - key_alias: by-email
    user_id: ada@example.COM
  - key_alias: by-sso
    user_id: okta|ada
  - key_alias: by-id
    user_id: u-ada
  - key_alias: new-user
    user_id: Grace@Example.com
""")
    result = cli("provision", "apply", spec)
    assert result.code == 0, result
    grace = db.value("""SELECT user_id FROM "LiteLLM_UserTable" WHERE user_email = 'grace@example.com'""")
    assert owners(db) == {"by-email": "u-ada", "by-sso": "u-ada", "by-id": "u-ada", "new-user": grace}
    again = cli("provision", "apply", spec, "--json")
    assert again.code == 0 and again.json()["summary"]["changed"] == 0, again  # the same owners: nothing to do


def test_keys_owned_by_users_of_earlier_chunks_named_by_email(cli, db: Database, tmp_path: Path) -> None:
    spec = write(tmp_path, """\
users:
  - user_email: one@example.com
  - user_email: two@example.com
  - user_email: three@example.com
keys:
  - key_alias: k1
    user_id: one@example.com
  - key_alias: k3
    user_id: three@example.com
""")
    result = cli("provision", "apply", spec, "--batch-size", "1")
    assert result.code == 0, result
    ids = {r["user_email"]: r["user_id"] for r in db.query('SELECT user_email, user_id FROM "LiteLLM_UserTable"')}
    assert owners(db) == {"k1": ids["one@example.com"], "k3": ids["three@example.com"]}


def test_an_owner_email_two_users_share_or_nobody_has_is_exit_2(cli, db: Database, tmp_path: Path) -> None:
    db.execute("""INSERT INTO "LiteLLM_UserTable" (user_id, user_email)
                  VALUES ('u-1', 'shared@example.com'), ('u-2', 'SHARED@example.com')""")
    spec = write(tmp_path, """\
keys:
  - key_alias: k
    user_id: shared@example.com
  - key_alias: j
    user_id: nobody@example.com
""")
    result = cli("provision", "apply", spec)
    assert result.code == 2, result
    assert (f"{spec}:3: keys[0].user_id: email 'shared@example.com' matches 2 users in the database: u-1, u-2; "
            "give the user_id") in result.stderr
    assert f"{spec}:5: keys[1].user_id: user 'nobody@example.com' exists neither" in result.stderr
    assert owners(db) == {}
    fixed = write(tmp_path, "keys:\n  - key_alias: k\n    user_id: u-2\n")
    assert cli("provision", "apply", fixed).code == 0
    assert owners(db) == {"k": "u-2"}
