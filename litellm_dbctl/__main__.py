"""Entry point. `--version` is answered before Typer is imported: it is what scripts call most."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        from litellm_dbctl import __version__

        sys.stdout.write(f"dbctl {__version__}\n")
        raise SystemExit(0)
    if "status" in args and "migrate" in args:  # the common case of a frequent call, without Typer or psycopg
        from litellm_dbctl import quickstatus

        code = quickstatus.run(args)
        if code is not None:
            raise SystemExit(code)
    from litellm_dbctl.cli import run

    raise SystemExit(run(args))


if __name__ == "__main__":
    main()
