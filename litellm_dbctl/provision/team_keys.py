"""A team's key within its team: the limits LiteLLM's proxy holds a team key to (issue 18 item 6).

LiteLLM 1.109.1 checks a key against its team where it moves one into a team (`/key/update`,
`validate_key_team_change`), and at every request through the team (`can_team_access_model`):

- models: each key model must be one the team may call. A team with no models, or with `*` or
  `all-proxy-models`, may call any; a team model with `*` is a pattern (`openai/*`); the key model
  `all-team-models` means "whatever the team may", always allowed. A key model outside them is a key
  the proxy refuses for that model at every request.
- tpm_limit, rpm_limit: not above the team's (when the team sets one).
- max_budget: not above the team's max_budget. The proxy enforces the team's budget before the key's,
  so a higher key budget is one that can never be spent; LiteLLM refuses the same for a project key
  (`_check_project_key_limits`) and, for a caller acting under a team, caps it at the team's.

And as `/key/generate` itself checks a team key (`_check_team_key_limits`): a key whose metadata
asks for `tpm_limit_type` or `rpm_limit_type` `guaranteed_throughput` must fit, with what the team's
other keys hold, in the team's tpm_limit and rpm_limit (`allocation_problems`); its per-model
`metadata.model_tpm_limit` / `model_rpm_limit` likewise, against the team's limit and the team's own
`metadata.model_tpm_limit` / `model_rpm_limit` for that model. Keys without it are best effort.

Not modelled: model access groups of the proxy's router config (a team model naming a group admits
the group's models; dbctl cannot see the router), and a provider wildcard matching a bare model name.
A key gets such a model under the group's name, as the team lists it. Pure functions: the caller
reads the team.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

ALL_TEAM_MODELS = "all-team-models"  # a key model: whatever the team may call
ALL_PROXY_MODELS = "all-proxy-models"  # a team model: every model on the proxy
GUARDED = ("models", "max_budget", "tpm_limit", "rpm_limit")  # the key fields held to the team's


def team_allows(model: str, team_models: Sequence[str]) -> bool:
    """Whether a key of a team with `team_models` may list `model` (LiteLLM's rule, above)."""
    if model == ALL_TEAM_MODELS or not team_models or "*" in team_models or ALL_PROXY_MODELS in team_models:
        return True
    return model in team_models or any(
        "*" in pattern and re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), model)
        for pattern in team_models)


def problems(key: Mapping[str, Any], team: Mapping[str, Any], fields: Iterable[str] = GUARDED) -> list[tuple[str, str]]:
    """(field, why) for each of `fields` (of GUARDED) whose value in `key` the team's limits refuse;
    `team` is its row (team_id, team_alias, models, max_budget, tpm_limit, rpm_limit)."""
    name = repr(team.get("team_alias") or team.get("team_id"))
    found: list[tuple[str, str]] = []
    for field in fields:
        value, limit = key.get(field), team.get(field)
        if field == "models":
            team_models = list(limit or [])
            refused = [m for m in value or [] if not team_allows(m, team_models)]
            if refused:
                found.append((field, f"{', '.join(map(repr, refused))} not among the models of team {name} "
                                      f"({', '.join(team_models)}); a team key may use only those"))
        elif value is not None and limit is not None and (limit or field == "max_budget") and value > limit:
            found.append((field, f"{_number(value)} is above the {field} {_number(limit)} of team {name}"))
    return found


GUARANTEED = "guaranteed_throughput"
PER_MODEL = (("model_tpm_limit", "tpm_limit"), ("model_rpm_limit", "rpm_limit"))  # metadata field, team limit


def guaranteed(key: Mapping[str, Any]) -> bool:
    """Whether the key asks for guaranteed throughput (its metadata's tpm_limit_type or rpm_limit_type)."""
    metadata = key.get("metadata") or {}
    return isinstance(metadata, Mapping) and GUARANTEED in (metadata.get("tpm_limit_type"),
                                                            metadata.get("rpm_limit_type"))


def allocation_problems(key: Mapping[str, Any], others: Sequence[Mapping[str, Any]],
                        team: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, why) when a key asking for guaranteed throughput does not fit, with the team's `others`
    keys (rows: tpm_limit, rpm_limit, metadata), in the team's limits; nothing for any other key."""
    if not guaranteed(key):
        return []
    name = repr(team.get("team_alias") or team.get("team_id"))
    found: list[tuple[str, str]] = []
    for field in ("tpm_limit", "rpm_limit"):
        value, limit = key.get(field), team.get(field)
        held = sum(_count(other.get(field)) for other in others)
        if value is not None and limit is not None and value + held > limit:
            found.append((field, f"{value} with the {held} the team's other keys hold is above the {field} "
                                 f"{limit} of team {name} ({GUARANTEED})"))
    team_metadata = team.get("metadata") or {}
    for meta_field, team_field in PER_MODEL:
        wanted = _per_model(key.get("metadata"), meta_field)
        limit = team.get(team_field)
        team_caps = _per_model(team_metadata, meta_field)
        for model, value in wanted.items():
            held = sum(_per_model(other.get("metadata"), meta_field).get(model, 0) for other in others)
            if limit is not None and value + held > limit:
                what = f"{team_field} {limit}"
            elif model in team_caps and value + held > team_caps[model]:
                what = f"{meta_field} {team_caps[model]} for {model!r}"
            else:
                continue
            found.append(("metadata", f"{meta_field} {value} for {model!r} with the {held} the team's other "
                                      f"keys hold is above the {what} of team {name} ({GUARANTEED})"))
    return found


def _per_model(metadata: Any, field: str) -> dict[str, int]:
    """metadata[field] as {model: limit}, whole numbers only (anything else holds nothing)."""
    value = metadata.get(field) if isinstance(metadata, Mapping) else None
    return {str(m): _count(n) for m, n in value.items() if _count(n)} if isinstance(value, Mapping) else {}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
