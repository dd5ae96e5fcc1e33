"""Entry point. `--version` is answered before Typer is imported: it is what scripts call most."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run dbctl. Called without `argv` it is the process itself (console script or `python -m`),
    which ends with os._exit after flushing, as mypy does: interpreter teardown would otherwise
    collect and free every object a big run built, 40-60 ms after a 10,000-user provision."""
    args = sys.argv[1:] if argv is None else argv
    code = _run(args)
    if argv is None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, ValueError):  # the reader left (`| head`), or the stream is closed
                pass
        os._exit(code)
    raise SystemExit(code)


def _run(args: list[str]) -> int:
    if args in (["--version"], ["-V"]):
        from litellm_dbctl import __version__

        sys.stdout.write(f"dbctl {__version__}\n")
        return 0
    import gc

    # Start-up imports make thousands of objects and no garbage: the cyclic collector would only
    # rescan them (~5 ms). Paused while importing; what was imported is then frozen out of its sight.
    enabled = gc.isenabled()
    gc.disable()
    try:
        from litellm_dbctl.cli import run
    finally:
        if enabled:
            gc.freeze()
            gc.enable()
    return run(args)


if __name__ == "__main__":
    main()
