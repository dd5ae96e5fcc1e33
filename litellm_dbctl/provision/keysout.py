"""`--keys-out FILE`: created raw keys kept on disk before the commit that creates them.

A raw key exists only in the run that made it (the database keeps its hash). Printed after the commit,
it is lost when the run is killed in between; written here first (mode 0600, fsynced), it survives.
One JSON object a line, appended, so re-runs never overwrite keys nobody has collected yet. A
transaction that rolls back takes its lines back out; one whose COMMIT got no answer keeps them (it
may have committed: a line's `token` is the hash to look for).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from litellm_dbctl.common.errors import InvalidInput
from litellm_dbctl.provision.tokens import CreatedKey

if TYPE_CHECKING:
    import psycopg

FLAG = "--keys-out"


class KeysOut:
    """The open file; InvalidInput (exit 2, before anything is written) when it cannot be used."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        existed = self.path.exists()
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise InvalidInput(f"{FLAG}: cannot open {self.path}: {exc.strerror}") from None
        mode = stat.S_IMODE(os.fstat(self.fd).st_mode)
        if mode & 0o077:
            os.close(self.fd)
            raise InvalidInput(f"{FLAG}: {self.path} is readable by others (mode {mode:04o}): chmod 600 it "
                               "or name a new file")
        if not existed:  # the file's name must survive a crash too
            _fsync_dir(self.path.parent)

    def write(self, keys: Sequence[CreatedKey]) -> int:
        """Append `keys`, fsynced; the file's length before them (for `undo`)."""
        mark = os.lseek(self.fd, 0, os.SEEK_END)
        lines = "".join(json.dumps({"key_alias": k.key_alias, "key_name": k.key_name, "token": k.token,
                                    "key": k.raw}) + "\n" for k in keys)
        os.write(self.fd, lines.encode())
        os.fsync(self.fd)
        return mark

    def undo(self, mark: int) -> None:
        """Take back what `write` added after `mark`: its transaction rolled back."""
        os.ftruncate(self.fd, mark)
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


@contextmanager
def until_commit(keys_out: KeysOut | None, conn: psycopg.Connection
                 ) -> Iterator[Callable[[Sequence[CreatedKey]], None]]:
    """Around a transaction (entered before it, so it ends after the COMMIT): `keep(keys)`, the
    transaction's last step, appends its raw keys. When the transaction then fails they are taken back
    out, unless the connection broke during the COMMIT (it may have committed them)."""
    marks: list[int] = []

    def keep(keys: Sequence[CreatedKey]) -> None:
        if keys_out is not None and keys:
            marks.append(keys_out.write(keys))

    try:
        yield keep
    except BaseException:
        if keys_out is not None and marks and not conn.broken:
            keys_out.undo(marks[0])
        raise


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
