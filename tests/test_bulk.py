"""COPY text encoding: any text, list and JSON value arrives in PostgreSQL unchanged."""

from __future__ import annotations

import uuid
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litellm_dbctl.db import bulk, config, database

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**9, 10**9) | text,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                           max_leaves=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(alias=text, models=st.lists(text, max_size=4), metadata=st.dictionaries(text, json_values, max_size=4),
       budget=st.none() | st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_copy_round_trip(db, alias, models, metadata, budget) -> None:
    user_id = f"u-{uuid.uuid4()}\t\\{alias[:5]}"
    row = {"user_id": user_id, "user_alias": alias, "models": models, "metadata": metadata, "max_budget": budget,
           "teams": ["t\"1", "t,2"], "budget_reset_at": datetime(2026, 1, 1, 12, 30, 0, 5000)}
    with database.connect(config.parse(db.url, "test"), command="test") as conn:
        assert bulk.write(conn, "user/copy_in", [row], now=datetime(2026, 1, 2), actor="t") == 1
        conn.commit()
    stored = db.query('SELECT * FROM "LiteLLM_UserTable" WHERE user_id = %s', [user_id])[0]
    assert (stored["user_alias"], stored["models"], stored["metadata"], stored["max_budget"]) == \
        (alias, models, metadata, budget)
    assert stored["teams"] == ["t\"1", "t,2"] and stored["spend"] == 0 and stored["user_email"] is None
