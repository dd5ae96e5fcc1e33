"""Write tests/data/reset_tables.json from each LiteLLM release's own duration functions.

For every release wheel given, this imports only `litellm/litellm_core_utils/duration_parser.py`
and `litellm/proxy/common_utils/timezone_utils.py` from the unzipped wheel (stubbing the three
names they import from the rest of litellm), freezes their clocks at each `now`, and records what
LiteLLM answers for every spelling either release accepts:

- `accepted`: `budget_duration_error(duration)` is None (the intake check of every endpoint),
  with `litellm.timezone` and `litellm.budget_reset_time` set to the case's zone and reset time;
- `seconds`: `duration_in_seconds(duration)` (None where it raises);
- `reset`: `get_next_standardized_reset_time(duration, now, zone, reset_time)` as ISO text with
  the offset LiteLLM returns it in (None where it raises).

The tests (tests/test_reset_tables.py) check dbctl's `durations` against the file without
litellm installed. Run again when a release is added:

    mkdir -p /tmp/wheels && cd /tmp/wheels && unzip -q -o litellm-1.109.1-*.whl -d litellm-1.109.1 && \\
        unzip -q -o litellm-1.110.2-*.whl -d litellm-1.110.2
    python tests/data/gen_reset_tables.py 1.109=/tmp/wheels/litellm-1.109.1 1.110=/tmp/wheels/litellm-1.110.2
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("reset_tables.json")
PARSER = "litellm/litellm_core_utils/duration_parser.py"
ZONE_UTILS = "litellm/proxy/common_utils/timezone_utils.py"

UNITS = {  # every unit spelling, with the lengths that exercise its alignment
    ("s", "sec", "secs", "second", "seconds"): (1, 30, 90),
    ("m", "min", "mins", "minute", "minutes"): (1, 10, 90),
    ("h", "hr", "hrs", "hour", "hours"): (1, 5, 24, 48),
    ("d", "day", "days"): (1, 2, 7, 30),
    ("w", "wk", "wks", "week", "weeks"): (1, 2),
    ("mo", "mon", "month", "months"): (1, 2),
}
OTHERS = [  # aliases, and spellings intake or the aligner reads oddly or refuses
    "hourly", "daily", "weekly", "monthly", " Daily ", "MONTHLY",
    "1ms", "5ms", "1dxyz", "1d ", "01d", "\u0663d", "12mo", "0mo", "0d", "0days", "0h", "0s",
    "1", "d", "", "abc", " 1d", "1D", "1Day", "1H", "1Mo", "1.5h", "-1d", "1x", "1y", "1yr",
    "3000000d", "3000000days", "200000000w", "200000000weeks", "100000h",
]
NOWS = [  # (now in UTC, zone): month and year ends, a Monday midnight, DST days on both sides
    ("2026-01-31T23:59:59", "UTC"), ("2026-02-28T12:34:56", "UTC"), ("2026-12-31T22:15:00", "UTC"),
    ("2026-03-02T00:00:00", "UTC"), ("2024-02-29T08:00:00.250000", "UTC"),
    ("2026-03-29T00:30:00", "Europe/Berlin"), ("2026-10-25T00:30:00", "Europe/Berlin"),
    ("2026-10-25T01:30:00", "Europe/Berlin"), ("2026-01-31T23:30:00", "Europe/Berlin"),
    ("2026-03-08T06:30:00", "America/New_York"), ("2026-11-01T05:30:00", "America/New_York"),
    ("2026-05-31T20:00:00", "Asia/Kolkata"),
]
RESET_TIMES = ("00:00", "09:30")


def spellings() -> list[str]:
    return [f"{n}{unit}" for units, lengths in UNITS.items() for unit in units for n in lengths] + OTHERS


class Record:
    """Stands for pydantic's BaseModel: keyword arguments become attributes."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def load(root: Path) -> tuple[types.ModuleType, types.ModuleType, types.ModuleType]:
    """(litellm stub, duration_parser, timezone_utils) of the wheel unzipped at `root`. What they
    import from elsewhere is stubbed: litellm's logger, its pydantic base model (only the settings
    record the functions below never build) and pydantic's ConfigDict."""
    for name in [m for m in sys.modules if m == "litellm" or m.startswith("litellm.")]:
        del sys.modules[name]
    stubs = {name: types.ModuleType(name) for name in (
        "litellm", "litellm._logging", "litellm.litellm_core_utils", "litellm.proxy", "litellm.proxy.common_utils",
        "litellm.types", "litellm.types.llms", "litellm.types.llms.base", "pydantic")}
    stubs["litellm._logging"].verbose_logger = logging.getLogger("litellm")  # type: ignore[attr-defined]
    stubs["litellm.types.llms.base"].LiteLLMBaseModel = Record  # type: ignore[attr-defined]
    stubs["pydantic"].ConfigDict = dict  # type: ignore[attr-defined]
    sys.modules.update(stubs)
    modules = []
    for name, path in (("litellm.litellm_core_utils.duration_parser", PARSER),
                       ("litellm.proxy.common_utils.timezone_utils", ZONE_UTILS)):
        spec = importlib.util.spec_from_file_location(name, root / path)
        assert spec and spec.loader, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        modules.append(module)
    return stubs["litellm"], modules[0], modules[1]


def freeze(parser: types.ModuleType, zone_utils: types.ModuleType, now: datetime) -> None:
    """Both modules' clocks read `now` (duration_in_seconds: time.time(); the reset: datetime.now)."""
    parser.time_module = types.SimpleNamespace(time=lambda: now.timestamp())  # type: ignore[attr-defined]

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return now.astimezone(tz) if tz else now.replace(tzinfo=None)

    zone_utils.datetime = Frozen  # type: ignore[attr-defined]


def cases(root: Path) -> list[list[Any]]:
    litellm, parser, zone_utils = load(root)
    rows = []
    for when, zone in NOWS:
        now = datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
        freeze(parser, zone_utils, now)
        for reset_time in RESET_TIMES:
            litellm.timezone = zone  # type: ignore[attr-defined]
            litellm.budget_reset_time = reset_time  # type: ignore[attr-defined]
            of_day = zone_utils.parse_budget_reset_time(reset_time)
            for duration in spellings():
                accepted = zone_utils.budget_duration_error(duration) is None
                try:
                    seconds = parser.duration_in_seconds(duration)
                except (ValueError, OverflowError):
                    seconds = None
                try:
                    reset = parser.get_next_standardized_reset_time(duration, now, zone, of_day).isoformat()
                except (ValueError, OverflowError):
                    reset = None
                rows.append([duration, when, zone, reset_time, accepted, seconds, reset])
    return rows


def main(argv: list[str]) -> None:
    os.environ["TZ"] = "UTC"  # `Nmo` counts months on the host's local clock; LiteLLM's containers run in UTC
    time.tzset()
    logging.disable(logging.WARNING)
    releases = {}
    for arg in argv:
        line, _, path = arg.partition("=")
        root = Path(path)
        digest = hashlib.sha256((root / PARSER).read_bytes() + (root / ZONE_UTILS).read_bytes()).hexdigest()
        version = next(root.glob("litellm-*.dist-info")).name.removeprefix("litellm-").removesuffix(".dist-info")
        releases[line] = {"version": version, "sources_sha256": digest, "cases": cases(root)}
    document = {
        "about": "Each LiteLLM release's own answers: [duration, now (UTC), timezone, budget_reset_time, "
                 "accepted by budget_duration_error, duration_in_seconds, get_next_standardized_reset_time]; "
                 "null where the function raises. Written by tests/data/gen_reset_tables.py.",
        "releases": releases,
    }
    with OUT.open("w", encoding="utf-8") as out:
        out.write('{"about": ' + json.dumps(document["about"]) + ',\n "releases": {\n')
        for n, (line, release) in enumerate(releases.items()):
            out.write(f'  {json.dumps(line)}: {{"version": {json.dumps(release["version"])}, '
                      f'"sources_sha256": {json.dumps(release["sources_sha256"])}, "cases": [\n')
            out.write(",\n".join("   " + json.dumps(row, ensure_ascii=True) for row in release["cases"]))
            out.write("\n  ]}" + (",\n" if n < len(releases) - 1 else "\n"))
        out.write(" }\n}\n")
    print(f"{OUT}: {sum(len(r['cases']) for r in releases.values())} cases")


if __name__ == "__main__":
    main(sys.argv[1:])
