"""Exit codes and the user-facing errors that map to them, in one place.

Library code raises these; the CLI turns them into one line on stderr and the exit code. Anything
else that escapes is a bug (exit 1, redacted traceback).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # operational error: unreachable database, SQL error, bug
    USAGE = 2  # usage error or invalid input; nothing was changed
    PENDING = 3  # changes pending / drift found / --dry-run found work
    INTEGRITY = 4  # failed or modified migration, state dbctl refuses to touch
    LOCKED = 5  # lock not acquired within --lock-timeout; safe to retry
    SCHEMA_TOO_OLD = 6  # a statement needs a migration the database lacks


class DbctlError(Exception):
    """Base of every error a user can act on. `hint` is a second line telling them how."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class OperationalError(DbctlError):
    """The database is unreachable, a statement failed, or the environment is broken."""

    exit_code = ExitCode.ERROR


class InvalidInput(DbctlError):
    """Bad flags, a malformed URL or spec file: nothing was changed."""

    exit_code = ExitCode.USAGE


class InvalidSpec(InvalidInput):
    """A spec file with one or more problems, each naming file:line and field."""

    def __init__(self, problems: list[str], *, source: str) -> None:
        self.problems = problems
        if len(problems) == 1:  # the common case stays one line: file:line: field: message
            super().__init__(problems[0])
            return
        head = f"{source}: {len(problems)} problems"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in problems))


class IntegrityError(DbctlError):
    """The database is in a state dbctl refuses to touch (failed or modified migration, ...)."""

    exit_code = ExitCode.INTEGRITY


class LockBusy(DbctlError):
    """Another run holds the advisory lock; retrying later is safe."""

    exit_code = ExitCode.LOCKED


class SchemaTooOld(DbctlError):
    """A statement requires a migration the database has not applied."""

    exit_code = ExitCode.SCHEMA_TOO_OLD


class QueryDefinitionError(DbctlError):
    """A query file is malformed or called wrongly: a bug in dbctl, caught by the tests."""

    exit_code = ExitCode.ERROR
