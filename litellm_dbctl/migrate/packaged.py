"""Where the installed litellm-proxy-extras keeps LiteLLM's migrations, found without importing it.

Its own module so `db status` can count pending migrations without importing the migration engine.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from litellm_dbctl.common.errors import OperationalError

PACKAGE = "litellm-proxy-extras"


def directory() -> tuple[Path, str]:
    """The packaged migrations directory and the package's version."""
    spec = find_spec("litellm_proxy_extras")
    if spec is None or not spec.submodule_search_locations:
        raise OperationalError(f"{PACKAGE} is not installed; pass --migrations-dir")
    package = Path(next(iter(spec.submodule_search_locations)))
    # The dist-info directory names the version without importing importlib.metadata (~15 ms).
    found = sorted(package.parent.glob("litellm_proxy_extras-*.dist-info"))
    release = found[-1].name[len("litellm_proxy_extras-"):-len(".dist-info")] if found else "unknown"
    return package / "migrations", release


def names() -> tuple[str, list[str]]:
    """("litellm-proxy-extras VERSION", migration names), without reading the files."""
    migrations, release = directory()
    return f"{PACKAGE} {release}", sorted(p.name for p in migrations.iterdir() if p.is_dir())
