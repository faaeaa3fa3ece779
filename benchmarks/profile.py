"""Where the worker's time goes: py-spy samples it while it works through the realistic mix.

    python -m benchmarks.profile --events 300000 --seconds 20 --output var/profile.txt

Writes py-spy's raw (collapsed) stacks to ``--output`` (feed them to a flame graph tool)
and prints the functions with the most samples, by own time and including callees. Only
samples that hold the GIL count, so waiting on the network or a lock does not show.
py-spy needs to ptrace the worker: root, or the CAP_SYS_PTRACE capability.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks import throughput
from benchmarks.common import (
    bench_services,
    bench_settings,
    load_reference_data,
    produce_events,
)
from devtools.localstack.worker import WorkerProcess
from streams.edge.kafka.topics import ensure_topics


def summary(collapsed: Path, top: int = 25) -> str:
    """The ``top`` frames by own samples and by inclusive samples, in percent."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "own time:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "including callees:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--output", type=Path, default=Path("var/profile.txt"))
    parser.add_argument(
        "--native", action="store_true", help="C frames too (the compiled modules, CPython)"
    )
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with bench_services() as services:
        settings = bench_settings(services, "profile")
        ensure_topics(settings)
        load_reference_data(services, args.customers)
        produce_events(settings, throughput.realistic_mix(args.events, args.customers))
        worker = WorkerProcess(settings, services.workdir / "worker-profile.log").start()
        try:
            time.sleep(3)  # past the start, into the steady state
            command = [py_spy, "record", "--pid", str(worker.pid), "--rate", "200"]
            command += ["--duration", str(args.seconds), "--format", "raw", "--gil"]
            command += ["--output", str(args.output)]
            # Native stacks need the worker paused at each sample (it slows it a little).
            command += ["--native"] if args.native else ["--nonblocking"]
            subprocess.run(command, check=True)  # noqa: S603 (our own py-spy, our worker)
        finally:
            worker.stop()
    print(summary(args.output))


if __name__ == "__main__":
    main()
