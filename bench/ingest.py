"""Benchmark `dbctl spend ingest` against a hand-written baseline measured in the same run (issue 21).

    python bench/ingest.py --server postgresql://postgres@127.0.0.1:5432/postgres --rows 200000

Makes N StandardLoggingPayloads (the SDK-made fixture of tests/data/ingest varied over 1,000 users,
200 keys, 50 teams, 10 orgs, tags and end users, 30 days) in a JSONL file, then into two fresh migrated
databases:
1. `dbctl spend ingest FILE` (a child process: its peak memory is the child's max RSS), default chunks;
2. the baseline: the same spend-log rows (built beforehand, not timed) COPYed straight into
   LiteLLM_SpendLogs in one statement, then one hand-run set-based daily statement and one counter
   statement over them (ingest's own two, pointed at LiteLLM_SpendLogs instead of its staging table),
   with none of ingest's reading, checking, staging or chunking.
Targets at 1M: >= 20k records/s, peak memory < 300 MB, ingest <= 2x the baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from litellm_dbctl.daily.tables import TABLE_NAMES
from litellm_dbctl.db import sqlfiles
from litellm_dbctl.spend import ingest, payloads, spool

DAY = 86400.0


def template() -> dict[str, Any]:
    first = json.loads((ROOT / "tests/data/ingest/payloads.jsonl").read_text().splitlines()[1])
    first["model_map_information"] = {"model_map_key": first["model"], "model_map_value": None}
    first["messages"] = first["response"] = None
    return first


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    base = template()
    start = time.time() - 30 * DAY
    keys = [f"{rng.getrandbits(256):064x}" for _ in range(200)]
    with path.open("w") as out:
        for n in range(rows):
            began = start + n * (30 * DAY / rows)
            key = rng.randrange(200)
            meta = {**base["metadata"], "user_api_key_hash": keys[key], "user_api_key_user_id": f"user-{rng.randrange(1000)}",
                    "user_api_key_team_id": f"team-{key % 50}", "user_api_key_org_id": f"org-{key % 10}",
                    "user_api_key_end_user_id": f"customer-{rng.randrange(500)}" if n % 3 == 0 else None}
            prompt, completion = rng.randrange(10, 4000), rng.randrange(1, 800)
            meta["usage_object"] = {"prompt_tokens": prompt, "completion_tokens": completion,
                                    "total_tokens": prompt + completion,
                                    "prompt_tokens_details": {"cached_tokens": prompt // 4 if n % 5 == 0 else 0}}
            record = {**base, "id": f"chatcmpl-bench-{n:09d}", "trace_id": f"trace-{n}", "litellm_call_id": f"call-{n}",
                      "startTime": began, "endTime": began + rng.uniform(0.2, 8.0), "completionStartTime": None,
                      "model": rng.choice(("gpt-4o", "gpt-4o-mini", "claude-sonnet")), "prompt_tokens": prompt,
                      "completion_tokens": completion, "total_tokens": prompt + completion,
                      "response_cost": (prompt * 2.5 + completion * 10) / 1e6, "metadata": meta,
                      "request_tags": rng.sample(("prod", "dev", "batch", "chat", "eval"), rng.randrange(0, 3)),
                      "status": "failure" if n % 50 == 0 else "success", "end_user": None}
            out.write(json.dumps(record) + "\n")


def fresh(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    subprocess.run([sys.executable, "-m", "litellm_dbctl", "--database-url", url, "migrate", "deploy", "-q"],
                   check=True, cwd=ROOT)
    return url


def baseline(url: str, source: Path) -> float:
    """COPY of the prepared rows, then ingest's daily and counter statements over LiteLLM_SpendLogs."""
    copy_file = source.with_suffix(".copy")
    columns = ", ".join(f'"{c}"' for c in payloads.COLUMNS)
    with copy_file.open("wb") as out:
        for block in spool.blocks([source]):
            for entry in spool.build(block, "standard", outbox=False):
                assert not isinstance(entry, spool.Bad)
                out.write(entry[1].rsplit(b"\t", 2)[0] + b"\n")  # less the staging-only delivery columns
    daily = sqlfiles.bind(sqlfiles.get("spend/ingest_daily").sql, {"stage": "LiteLLM_SpendLogs"})
    counters = sqlfiles.get("spend/ingest_counters").sql.replace('"dbctl_spend_ingest"', '"LiteLLM_SpendLogs"')
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy(f'COPY "LiteLLM_SpendLogs" ({columns}) FROM STDIN') as copy, copy_file.open("rb") as data:
                while block := data.read(1 << 20):
                    copy.write(block)
            cur.execute(daily, {"litellm_1110": False, "first_writer": True, "tables": list(TABLE_NAMES)})
            cur.execute(counters)
        conn.commit()
        seconds = time.perf_counter() - started
    copy_file.unlink()
    return seconds


def tree_rss_mb(root: int) -> float:
    """The resident memory of `root` and its descendants (ingest's worker processes), from /proc."""
    parents: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "0")
        sizes[int(entry.name)] = int(rss)
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(sizes.get(pid, 0) for pid in tree) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=ingest.DEFAULT_BATCH)
    parser.add_argument("--jobs", type=int, help="ingest's --jobs (default: its own, one per core up to 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dbctl-bench-ingest-") as scratch:
        source = Path(scratch) / "payloads.jsonl"
        generate(source, args.rows)
        print(f"{args.rows:,} payloads, {source.stat().st_size / 1e6:,.0f} MB", flush=True)
        url = fresh(args.server, "dbctl_bench_ingest")
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "litellm_dbctl", "--database-url", url, "spend", "ingest",
                                  str(source), "--batch-size", str(args.batch_size), "-q",
                                  *(["--jobs", str(args.jobs)] if args.jobs else [])], cwd=ROOT)
        peak_mb = 0.0
        while child.poll() is None:
            peak_mb = max(peak_mb, tree_rss_mb(child.pid))
            time.sleep(0.2)
        ingest_seconds = time.perf_counter() - started
        assert child.returncode == 0, child.returncode
        check = subprocess.run([sys.executable, "-m", "litellm_dbctl", "--database-url", url, "daily", "check",
                                "--since", "40d", "--until", "today", "-q"], cwd=ROOT)
        base_url = fresh(args.server, "dbctl_bench_ingest_base")
        base_seconds = baseline(base_url, source)
    rate = args.rows / ingest_seconds
    print(f"ingest   {ingest_seconds:7.1f} s  {rate:10,.0f} records/s  peak {peak_mb:,.0f} MB (its processes' RSS, summed)")
    print(f"baseline {base_seconds:7.1f} s  {args.rows / base_seconds:10,.0f} records/s  (COPY + set-based daily + counters)")
    print(f"ratio    {ingest_seconds / base_seconds:7.2f}x  (target <= 2x; >= 20k records/s; < 300 MB); "
          f"daily check after ingest: exit {check.returncode}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
