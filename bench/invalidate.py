"""Benchmark: invalidating the proxies' Redis caches after a large budget reset, before and after redis-py.

Fills a loopback Redis with --other keys of entities that were not reset (cached objects, spend
counters and their window counters, as LiteLLM keeps them), then times `invalidate(..., counters=True)`
of --entities reset keys, users and teams, whose own objects, counters and window counters are there:
  before   the checkout at --before (the hand-written RESP client: one SCAN of the keyspace per
           entity with window counters, one round trip per PUBLISH)
  after    this checkout (redis-py: one SCAN per run, DEL and PUBLISH pipelined per batch)
Each run is its own interpreter (the checkouts share a package name) timing only the call; the
entities' keys are written again before every run. Prints medians and the ratio. Every key it
writes is under a namespace of its own, deleted at the end.

    python bench/invalidate.py [--other 60000] [--entities 2000] [--rounds 3] [--redis redis://127.0.0.1:6379]
                               [--before /work/base]

Target (issue 16): no slower than before; the issue measured 49.5 s for the defaults before.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import redis

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MOST_KEYS = 1_000_000  # bounds: the bench fills a shared server
MOST_ENTITIES = 100_000


def refs(module: object, count: int) -> list[object]:
    """`count` reset entities, keys, users and teams in turn (as `module` names them)."""
    entity_ref = module.EntityRef  # type: ignore[attr-defined]
    made = []
    for number in range(count):
        kind = ("key", "user", "team")[number % 3]
        made.append(entity_ref.team(f"e{number}", f"alias-{number}") if kind == "team" else entity_ref(kind, f"e{number}"))
    return made


def entity_keys(count: int) -> list[str]:
    """The Redis keys LiteLLM keeps for the reset entities: what an invalidation must delete."""
    from litellm_dbctl.cache import invalidate

    keys = []
    for ref in refs(invalidate, count):
        objects, counters, windows = invalidate.cache_keys(ref)  # type: ignore[arg-type]
        keys += objects + counters + [window.replace("*", period) for window in windows for period in ("1d", "30d")]
    return keys


def other_keys(count: int) -> list[str]:
    """Keys of entities nobody reset, in LiteLLM's shapes (a third are window counters a pattern scan sees)."""
    shapes = ("o{}", "spend:key:o{}", "spend:key:o{}:window:1d")
    return [shapes[number % 3].format(number // 3) for number in range(count)]


def fill(client: redis.Redis, namespace: str, keys: list[str]) -> None:
    pipe = client.pipeline(transaction=False)
    for start in range(0, len(keys), 5000):
        pipe.mset({f"{namespace}:{key}": "1" for key in keys[start:start + 5000]})
    pipe.execute()


def clean(client: redis.Redis, namespace: str) -> None:
    batch = []
    for key in client.scan_iter(match=f"{namespace}:*", count=1000):
        batch.append(key)
        if len(batch) == 5000:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)


def run(checkout: Path, url: str, namespace: str, entities: int) -> dict[str, float]:
    """One invalidation in a fresh interpreter importing the package from `checkout`."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, __file__, "--worker", url, namespace, str(entities)], env=env, cwd=checkout,
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise SystemExit(f"bench: the run at {checkout} failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def worker(url: str, namespace: str, entities: int) -> None:
    """Time `invalidate` as the checkout on PYTHONPATH has it (a flat `cache` module before issue 16)."""
    import litellm_dbctl.cache as module

    if not hasattr(module, "EntityRef"):
        from litellm_dbctl.cache import invalidate as module  # type: ignore[no-redef]
    made = refs(module, entities)
    started = time.perf_counter()
    done = module.invalidate(url, made, namespace=namespace, counters=True)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "deleted": done.deleted, "published": done.published}))


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=int, default=60_000, help="keys of entities not reset (default 60,000)")
    parser.add_argument("--entities", type=int, default=2000, help="reset keys, users and teams (default 2,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="a loopback Redis (default: the machine's)")
    parser.add_argument("--before", type=Path, default=Path(os.environ.get("DBCTL_BENCH_BEFORE", "/work/base")),
                        help="the checkout to compare with (default $DBCTL_BENCH_BEFORE or /work/base)")
    args = parser.parse_args()
    if urlsplit(args.redis).hostname not in LOOPBACK:
        raise SystemExit("bench: --redis must be a loopback Redis (127.0.0.1, localhost or ::1)")
    if not 0 <= args.other <= MOST_KEYS or not 1 <= args.entities <= MOST_ENTITIES or args.rounds < 1:
        raise SystemExit(f"bench: --other up to {MOST_KEYS:,}, --entities 1 to {MOST_ENTITIES:,}, --rounds 1 or more")
    namespace = f"dbctl-bench-{uuid.uuid4().hex[:8]}"
    theirs = entity_keys(args.entities)
    checkouts = {"before": args.before.resolve(), "after": ROOT}
    times: dict[str, list[float]] = {label: [] for label in checkouts}
    with redis.Redis.from_url(args.redis, socket_timeout=60) as client:
        try:
            fill(client, namespace, other_keys(args.other))
            for _ in range(args.rounds):
                for label, checkout in checkouts.items():
                    fill(client, namespace, theirs)
                    result = run(checkout, args.redis, namespace, args.entities)
                    left = client.exists(*(f"{namespace}:{key}" for key in theirs))
                    if result["deleted"] != len(theirs) or left:
                        raise SystemExit(f"bench: {label} deleted {result['deleted']:,} of {len(theirs):,} keys")
                    times[label].append(result["seconds"])
            kept = sum(1 for _ in client.scan_iter(match=f"{namespace}:*", count=1000))
            if kept != args.other:
                raise SystemExit(f"bench: {args.other - kept:,} keys of entities not reset went too")
        finally:
            clean(client, namespace)
    print(f"redis invalidation: {args.entities:,} reset entities ({len(theirs):,} keys of theirs) among "
          f"{args.other:,} other keys, median of {args.rounds} rounds")
    for label, values in times.items():
        print(f"  {label:<7} {statistics.median(values):8.3f} s   (runs: {', '.join(f'{v:.3f}' for v in values)})")
    ratio = statistics.median(a / b for a, b in zip(times["after"], times["before"]))
    print(f"  after / before: {ratio:.4f}x ({1 / ratio:,.0f} times faster)")


if __name__ == "__main__":
    main()
