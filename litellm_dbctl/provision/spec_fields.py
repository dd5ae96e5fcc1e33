"""The fields a spec entry may have, how each is checked, and the collector of problems.

A field's check takes the value as the located YAML reader gives it and returns it normalised, or
raises ValueError with a message; `Collector` adds where (`file:line: section[i].field: ...`). The
value rules themselves (finite numbers, column ranges, no NUL, durations, emails, roles) are the
ones every input shares, in `common.checks`; here they meet YAML's mappings and lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from litellm_dbctl.common import checks
from litellm_dbctl.common.errors import InvalidSpec
from litellm_dbctl.common.yamldoc import LMap, LSeq, plain

USER_ROLES = ("proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer", "org_admin",
              "team", "customer")  # LiteLLM's LitellmUserRoles
TEAM_ROLES = ("admin", "user")
ORG_ROLES = ("org_admin", "internal_user", "internal_user_viewer")
DEFAULT_ROLE = {"team": "user", "org": "internal_user"}  # what LiteLLM gives a member added without one

Check = Callable[[Any], Any]  # returns the normalised value or raises ValueError(message)


def scalar(value: Any) -> Any:
    """A value as the common checks see it: a YAML mapping or list stands as an empty one, so
    their messages name its kind and never echo it."""
    if type(value) is str:  # most values: no isinstance walk
        return value
    if isinstance(value, LMap):
        return {}
    if isinstance(value, LSeq):
        return []
    return value


def string(value: Any) -> str:
    return checks.text(scalar(value))


def ident(value: Any) -> str:
    return checks.name(scalar(value))


def email(value: Any) -> str:
    return checks.email(scalar(value))


def number(value: Any) -> float:
    return checks.number(checks.numeric_text(scalar(value)))


def count(value: Any) -> int:
    """A limit in a bigint column (tpm_limit, rpm_limit)."""
    return checks.whole(checks.numeric_text(scalar(value), whole=True))


def small_count(value: Any) -> int:
    """A limit in an integer column (max_parallel_requests)."""
    return checks.whole(checks.numeric_text(scalar(value), whole=True), maximum=checks.INTEGER_MAX)


def boolean(value: Any) -> bool:
    return checks.boolean(checks.boolean_text(scalar(value)))


def duration(value: Any) -> str:
    return checks.duration(scalar(value))


def lifetime(value: Any) -> str:
    return checks.lifetime(scalar(value))


def str_list(value: Any) -> list[str]:
    if not isinstance(value, LSeq) or not all(isinstance(v, str) for v in value.items):
        raise ValueError(f"expected a list of strings, got {kind(value)}")
    return list(dict.fromkeys(checks.text(v).strip() for v in value.items if v.strip()))


def mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, LMap):
        raise ValueError(f"expected a mapping, got {kind(value)}")
    plain_value: dict[str, Any] = plain(value)
    return checks.json_value(plain_value)


def choice(options: Sequence[str]) -> Check:
    def check(value: Any) -> str:
        return checks.choice(scalar(value), options)

    return check


NUMBERS = (number, count, small_count)  # the checks whose values a CSV cell or an environment variable spells


def kind(value: Any) -> str:
    if isinstance(value, LMap):
        return "a mapping"
    if isinstance(value, LSeq):
        return "a list"
    if value is None:
        return "null"
    return type(value).__name__


BUDGET_FIELDS: dict[str, Check] = {
    "max_budget": number, "soft_budget": number, "budget_duration": duration,
    "tpm_limit": count, "rpm_limit": count,
}
USER_FIELDS: dict[str, Check] = {
    "user_alias": string, "user_role": choice(USER_ROLES), "max_budget": number, "budget_duration": duration,
    "models": str_list, "tpm_limit": count, "rpm_limit": count, "max_parallel_requests": small_count,
    "metadata": mapping,
}
USER_KEYS = {"user_id", "user_email", "sso_user_id", "teams", "organizations", "organization_id",
             "auto_create_key", *USER_FIELDS}
TIER_FIELDS: dict[str, Check] = {  # a budgets entry: /budget/new's fields (BudgetNewRequest)
    **BUDGET_FIELDS, "max_parallel_requests": small_count, "model_max_budget": mapping,
}
TIER_KEYS = {"budget_id", *TIER_FIELDS}
TEAM_FIELDS: dict[str, Check] = {
    "team_alias": ident, "organization_id": ident, "max_budget": number, "soft_budget": number,
    "budget_duration": duration, "models": str_list, "tpm_limit": count, "rpm_limit": count,
    "max_parallel_requests": small_count, "blocked": boolean, "metadata": mapping, "team_member_permissions": str_list,
}
TEAM_MEMBER_BUDGET: dict[str, Check] = {  # /team/new's default member budget fields -> budget row columns
    "team_member_budget": number, "team_member_budget_duration": duration,
    "team_member_tpm_limit": count, "team_member_rpm_limit": count,
}
TEAM_KEYS = {"team_id", "members_with_roles", "members", "add_proxy_admin", *TEAM_FIELDS, *TEAM_MEMBER_BUDGET}
ORG_FIELDS: dict[str, Check] = {"organization_alias": ident, "models": str_list, "metadata": mapping,
                                **BUDGET_FIELDS}
ORG_KEYS = {"organization_id", "members_with_roles", "members", *ORG_FIELDS}
KEY_FIELDS: dict[str, Check] = {
    "user_id": ident, "team_id": ident, "models": str_list, "max_budget": number,
    "budget_duration": duration, "tpm_limit": count, "rpm_limit": count, "max_parallel_requests": small_count,
    "metadata": mapping, "blocked": boolean, "allowed_routes": str_list, "budget_id": ident,
}
KEY_KEYS = {"key_alias", "key", "duration", *KEY_FIELDS}
MEMBER_KEYS = {"user_id", "user_email", "role", "max_budget_in_team"}
USER_TEAM_KEYS = {"team_id", "team", "team_alias", "role", "max_budget_in_team"}
USER_ORG_KEYS = {"organization_id", "organization", "organization_alias", "role"}


class Collector:
    """Problems found while reading a spec, each `file:line: section[i].field: message`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[tuple[int, str]] = []

    def add(self, line: int, where: str, message: str) -> None:
        self.problems.append((line, f"{self.source}:{line}: {where}: {message}" if line
                              else f"{self.source}: {where}: {message}"))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidSpec([text for _, text in sorted(self.problems, key=lambda p: p[0])], source=self.source)

    def check(self, entry: LMap, where: str, checks: Mapping[str, Check], allowed: set[str]) -> dict[str, Any]:
        """The entry's known fields, normalised; unknown keys and bad values become problems."""
        out: dict[str, Any] = {}
        for key, line in entry.duplicates:
            self.add(line, f"{where}.{key}", "given twice")
        for key, value in entry.values.items():
            if key not in allowed:
                self.add(entry.at(key), f"{where}.{key}", f"unknown field (expected one of: {', '.join(sorted(allowed))})")
                continue
            check = checks.get(key)
            if check is None:
                continue
            if value is None:
                out[key] = None
                continue
            try:
                out[key] = check(value)
            except ValueError as exc:
                self.add(entry.at(key), f"{where}.{key}", str(exc))
        return out

    def value(self, entry: LMap, key: str, where: str, check: Check) -> Any:
        value = entry.values.get(key)
        if value is None:
            return None
        try:
            return check(value)
        except ValueError as exc:
            self.add(entry.at(key), f"{where}.{key}", str(exc))
            return None
