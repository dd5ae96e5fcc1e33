"""The one-line summary of `migrate status`, shared by the full command and its fast path."""

from __future__ import annotations

ORDER = ("applied", "pending", "rolled back", "failed", "modified", "only in database")


def summary(total: int, source: str, counts: dict[str, int], *, ledger_exists: bool = True,
            needs_baseline: bool = False) -> str:
    """`220 migrations (litellm-proxy-extras 0.4.110): 218 applied, 2 pending`."""
    parts = [f"{counts[state]} {state}" for state in ORDER if counts.get(state)]
    head = f"{total} migrations ({source})"
    if needs_baseline:
        head += ", tables but no ledger: run `dbctl migrate baseline`"
    elif not ledger_exists:
        head += ", no ledger yet"
    return head + ": " + (", ".join(parts) if parts else "none")
