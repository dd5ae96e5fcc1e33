"""Test-only pause points: where a kill -9 test stops a run at an exact step.

With `DBCTL_TEST_PAUSE_<NAME>=SECONDS` in the environment, `pause(NAME)` says so on stderr and sleeps;
without it (always, outside tests) it does nothing.
"""

from __future__ import annotations

import os
import sys
import time


def pause(name: str) -> None:
    seconds = os.environ.get(f"DBCTL_TEST_PAUSE_{name}")
    if seconds:
        print(f"dbctl: test pause {name}", file=sys.stderr, flush=True)
        time.sleep(float(seconds))
