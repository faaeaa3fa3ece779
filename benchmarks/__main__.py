"""``make bench``: every benchmark in one run, against the real local broker and Redis.

    python -m benchmarks            # the full run (about 20 minutes here)
    python -m benchmarks --quick    # small sizes, to keep the benchmark working (CI)

Prints a table, then, as its last line, one JSON object with the figures. Throughput is
given as a ratio to a plain aiokafka loop measured in the same run on the same broker,
because this machine is shared and noisy; the other figures are absolute, read them with
the ratio's baseline in mind. Nothing here asserts a figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from typing import Any

from redis import Redis

from benchmarks import latency, scale, takeover, throughput
from benchmarks.common import (
    Services,
    bench_services,
    bench_settings,
    load_reference_data,
    produce_events,
)
from devtools.localstack.process import free_port
from devtools.localstack.worker import WorkerProcess
from streams.edge.kafka.topics import ensure_topics
from streams.edge.redis.ledger import KEY_PREFIX as LEDGER_PREFIX
from streams.settings import Settings


@dataclass(frozen=True)
class Sizes:
    events: int
    customers: int
    latency_rate: float
    latency_seconds: float
    scale_customers: int
    due_at_once: int
    takeover_customers: int


FULL = Sizes(300_000, 100_000, 200.0, 30.0, 1_000_000, 100_000, 100_000)
QUICK = Sizes(60_000, 10_000, 50.0, 5.0, 20_000, 2_000, 5_000)
"""A dozen of the worker's batches (5,000 records): enough to run every part, too few for
its figures to mean anything (20,000 events gave a ratio of 2.7, the first batch's timing
being most of the run)."""


PARTS = ("throughput", "latency", "scale", "takeover")


def run(services: Services, sizes: Sizes, parts: tuple[str, ...] = PARTS) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if "throughput" in parts:
        results |= _throughput(services, sizes)
    if "latency" in parts:
        results |= _latency(services, sizes)
    if "scale" in parts:
        results |= _scale(services, sizes)
    if "takeover" in parts:
        results |= _takeover(services, sizes)
    return results


def _throughput(services: Services, sizes: Sizes) -> dict[str, Any]:
    results: dict[str, Any] = {}
    settings = bench_settings(services, "throughput")
    ensure_topics(settings)
    loaded = load_reference_data(services, sizes.customers)
    _progress(f"catalog and {loaded} profiles loaded")
    produce_events(settings, throughput.realistic_mix(sizes.events, sizes.customers))
    # Each side runs twice, baseline / worker / worker / baseline, and the ratio is of their
    # means: on this shared machine one run differs from the next by up to a quarter, and
    # the broker warms up as the run goes on, which this order gives both sides alike.
    before = throughput.baseline(settings, sizes.events, run=1)
    _progress(f"baseline {before.per_s:.0f} events/s")
    pipes = [_pipeline(services, settings, sizes.events, run) for run in (1, 2)]
    after = throughput.baseline(settings, sizes.events, run=2)
    _progress(f"baseline again {after.per_s:.0f} events/s")
    base = (before.per_s + after.per_s) / 2
    pipe = sum(p.per_s for p in pipes) / len(pipes)
    results |= {
        "baseline_events_per_s": round(base),
        "baseline_runs_events_per_s": [round(before.per_s), round(after.per_s)],
        "pipeline_events_per_s": round(pipe),
        "pipeline_runs_events_per_s": [round(p.per_s) for p in pipes],
        "ratio": round(pipe / base, 3),
        "ratio_runs": [
            round(p.per_s / b.per_s, 3) for p, b in zip(pipes, (before, after), strict=True)
        ],
        "baseline_cpu_ms_per_1k": round((before.cpu_ms_per_1k + after.cpu_ms_per_1k) / 2, 1),
        "pipeline_cpu_ms_per_1k": round(sum(p.cpu_ms_per_1k for p in pipes) / len(pipes), 1),
    }
    results["cpu_ratio"] = round(
        results["baseline_cpu_ms_per_1k"] / results["pipeline_cpu_ms_per_1k"], 3
    )
    return results


def _latency(services: Services, sizes: Sizes) -> dict[str, Any]:
    settings = bench_settings(services, "latency")
    ensure_topics(settings)
    worker = WorkerProcess(settings, services.workdir / "worker-latency.log").start()
    try:
        runs = latency.measure(settings, sizes.latency_rate, sizes.latency_seconds)
    finally:
        worker.stop()
    worst = max(runs, key=lambda run: run.p99_ms)
    _progress(f"latency p99 of the runs: {', '.join(f'{r.p99_ms:.0f}' for r in runs)} ms")
    return {
        "e2e_rate_per_s": worst.rate,
        "e2e_p50_ms": round(max(r.p50_ms for r in runs), 1),
        "e2e_p99_ms": round(worst.p99_ms, 1),
        "e2e_max_ms": round(max(r.max_ms for r in runs), 1),
        "e2e_runs_p50_ms": [round(r.p50_ms, 1) for r in runs],
        "e2e_runs_p99_ms": [round(r.p99_ms, 1) for r in runs],
        "e2e_runs_max_ms": [round(r.max_ms, 1) for r in runs],
    }


def _scale(services: Services, sizes: Sizes) -> dict[str, Any]:
    big = scale.measure(services, sizes.scale_customers, sizes.due_at_once)
    per_million = 1_000_000 / big.customers
    return {
        "pending_timers": big.customers + big.due,
        "rss_mib": round(big.rss_mib),
        "rss_idle_mib": round(big.rss_idle_mib),
        "rss_mib_per_million_timers": round(big.rss_mib_per_million_timers),
        "rss_after_due_mib": round(big.rss_after_due_mib),
        "timers_due_at_once": big.due,
        "timer_lateness_p50_s": round(big.fire_lateness_p50_s, 3),
        "timer_lateness_p99_s": round(big.fire_lateness_p99_s, 3),
        "command_lateness_p50_s": round(big.command_lateness_p50_s, 3),
        "command_lateness_p99_s": round(big.command_lateness_p99_s, 3),
        "command_lateness_max_s": round(big.command_lateness_max_s, 3),
        "recovery_customers": big.customers,
        "recovery_s": round(big.recovery_s, 1),
        "recovery_s_per_million_customers": round(big.recovery_s * per_million, 1),
        "restored_records": big.restored_records,
        "restore_records_per_s": round(big.restore_records_per_s),
        "changelog_read_records_per_s": [round(r) for r in big.read_records_per_s],
        "recovery_ratio": round(big.recovery_ratio, 3),
        "restart_s_per_million_customers": round(big.restart_s * per_million, 1),
        "disk_mib_per_million_customers": round(big.disk_mib * per_million),
    }


def _takeover(services: Services, sizes: Sizes) -> dict[str, Any]:
    results: dict[str, Any] = {"takeover_customers": sizes.takeover_customers}
    for mode, standbys, key in (
        ("graceful", 1, "takeover_s"),
        ("graceful", 0, "takeover_no_standby_s"),
        ("kill", 1, "takeover_kill_s"),
        ("kill", 0, "takeover_kill_no_standby_s"),
    ):
        found = takeover.measure(services, sizes.takeover_customers, mode, standbys)
        _progress(f"takeover {mode}, {standbys} standby: {found.seconds:.1f} s")
        results[key] = round(found.seconds, 1)
        results["takeover_session_timeout_s"] = found.session_timeout_s
    return results


TABLE = (
    ("baseline: aiokafka consume, dict update, produce", "baseline_events_per_s", "events/s"),
    ("  its runs, before and after the worker", "baseline_runs_events_per_s", "events/s"),
    ("pipeline: the worker, shipped scenarios, realistic mix", "pipeline_events_per_s", "events/s"),
    ("  its runs, fresh app each", "pipeline_runs_events_per_s", "events/s"),
    ("ratio pipeline / baseline, of the means", "ratio", ""),
    ("  each worker run to the baseline run beside it", "ratio_runs", ""),
    ("CPU per 1k events: baseline", "baseline_cpu_ms_per_1k", "ms"),
    ("CPU per 1k events: the worker", "pipeline_cpu_ms_per_1k", "ms"),
    ("ratio of CPU, baseline / worker (less sensitive to noise)", "cpu_ratio", ""),
    ("end to end, zero-delay scenario, p50 (worst run)", "e2e_p50_ms", "ms"),
    ("end to end, zero-delay scenario, p99 (worst run)", "e2e_p99_ms", "ms"),
    ("end to end, max (worst run)", "e2e_max_ms", "ms"),
    ("  p50 of each run", "e2e_runs_p50_ms", "ms"),
    ("  p99 of each run", "e2e_runs_p99_ms", "ms"),
    ("  max of each run", "e2e_runs_max_ms", "ms"),
    ("pending timers", "pending_timers", ""),
    ("worker resident memory with them", "rss_mib", "MiB"),
    ("resident memory per million pending timers", "rss_mib_per_million_timers", "MiB"),
    ("timers due at once", "timers_due_at_once", ""),
    ("resident memory once their commands are out", "rss_after_due_mib", "MiB"),
    ("timer fire lateness p99", "timer_lateness_p99_s", "s"),
    ("their commands' lateness p99", "command_lateness_p99_s", "s"),
    ("recovery from the changelogs (new node)", "recovery_s", "s"),
    ("recovery, per million customers", "recovery_s_per_million_customers", "s"),
    (
        "  its restore: changelog records written a fetch at a time",
        "restore_records_per_s",
        "records/s",
    ),
    (
        "  a plain aiokafka read of that changelog, before / after",
        "changelog_read_records_per_s",
        "records/s",
    ),
    ("  ratio restore / read, of the reads' mean", "recovery_ratio", ""),
    ("restart on local RocksDB, per million customers", "restart_s_per_million_customers", "s"),
    ("RocksDB files, per million customers", "disk_mib_per_million_customers", "MiB"),
    ("takeover: customers in the table", "takeover_customers", ""),
    ("  graceful stop, standby copies: signal to first command", "takeover_s", "s"),
    ("  graceful stop, no standby", "takeover_no_standby_s", "s"),
    ("  SIGKILL, standby copies", "takeover_kill_s", "s"),
    ("  SIGKILL, no standby", "takeover_kill_no_standby_s", "s"),
    ("  session timeout of those runs", "takeover_session_timeout_s", "s"),
)


def table(results: dict[str, Any]) -> str:
    width = max(len(label) for label, _, _ in TABLE)
    return "\n".join(
        f"{label:<{width}}  {_cell(results[key]):>13}  {unit}"
        for label, key, unit in TABLE
        if key in results
    )


def _cell(value: Any) -> str:
    return " / ".join(map(str, value)) if isinstance(value, list) else str(value)


def _pipeline(
    services: Services, settings: Settings, events: int, run: int
) -> throughput.Throughput:
    """The worker's rate over the events on ``settings``' topics, as a fresh app (its own
    group, tables and data) for each ``run``, with the command ledger emptied before."""
    settings = replace(
        settings,
        app_id=f"{settings.app_id}-{run}",
        data_dir=f"{settings.data_dir}-{run}",
        web_port=free_port(),
    )
    ensure_topics(settings)
    _clear_ledger(settings.redis_url)
    log = services.workdir / f"worker-throughput-{run}.log"
    worker = WorkerProcess(settings, log).start()
    try:
        pipe = throughput.pipeline(worker, events)
    finally:
        worker.stop()
    _progress(f"pipeline {pipe.per_s:.0f} events/s")
    return pipe


def _clear_ledger(redis_url: str) -> None:
    """Forget every published command id: a second run over the same events must publish
    their commands again, as the first did."""
    client = Redis.from_url(redis_url)
    try:
        batch = []
        for key in client.scan_iter(match=LEDGER_PREFIX + "*", count=10_000):
            batch.append(key)
            if len(batch) == 10_000:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
    finally:
        client.close()


def _progress(line: str) -> None:
    print(f"# {line}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument("--events", type=int, help="events of the throughput mix")
    parser.add_argument("--scale-customers", type=int, help="customers with a pending timer")
    parser.add_argument("--due-at-once", type=int, help="timers that fall due at once")
    parser.add_argument(
        "--only", choices=PARTS, action="append", help="run this part only (repeatable)"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    sizes = replace(
        sizes,
        events=args.events or sizes.events,
        scale_customers=args.scale_customers or sizes.scale_customers,
        due_at_once=args.due_at_once or sizes.due_at_once,
    )
    with bench_services() as services:
        parts = tuple(args.only or PARTS)
        results = {"mode": "quick" if args.quick else "full", **run(services, sizes, parts)}
    print(table(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
