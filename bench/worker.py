"""One contender's worker process: its outbox publisher and its consumer, nothing else.

    python -m bench.worker CONTENDER --database-url URL --amqp-url URL --kind sqlite --events N

Subscribes, prints ``READY``, starts the publisher, waits (bounded) until the
handler has committed N events, stops, and prints one ``RESULT {json}`` line:
the commit times, the CPU time spent, its own resident memory and what the
database holds afterwards. Started by ``bench.event_throughput``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import Recorder, busy_percent, cpu_seconds, cpu_ticks, proc_status, verify
from bench.contenders import ALL, Options, module_for, queue_name
from bench.experiments import NAMES as EXPERIMENTS
from bench.experiments import apply as apply_experiments
from shared.db import Database
from shared.logging import configure_logging


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.worker")
    parser.add_argument("contender", choices=ALL)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--amqp-url", required=True)
    parser.add_argument("--kind", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="give up after this many seconds"
    )
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--relay-batch-size", type=int)
    parser.add_argument("--relay-idle-poll", type=float)
    parser.add_argument("--profile-dir", type=Path)
    parser.add_argument("--stages", action="store_true", help="also record publisher confirms")
    parser.add_argument("--experiment", action="append", default=[], choices=EXPERIMENTS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    configure_logging(getattr(logging, args.log_level.upper()))
    apply_experiments(args.experiment)
    options = Options(
        kind=args.kind,
        name=queue_name(args.contender, args.kind),
        relay_batch_size=args.relay_batch_size,
        relay_idle_poll_seconds=args.relay_idle_poll,
        profile_dir=args.profile_dir,
    )
    database = Database(args.database_url)
    recorder = Recorder(args.events, stages=args.stages)
    threading.Thread(target=_read_orders, args=(recorder,), daemon=True).start()
    module = importlib.import_module(module_for(args.contender))
    contender = module.Contender(database, args.amqp_url, recorder, options)
    result: dict[str, Any] = {
        "contender": args.contender,
        "kind": args.kind,
        "events": args.events,
        "experiments": args.experiment,
    }
    stop_timeout = 20.0
    try:
        contender.start_consumer(timeout=60)
        rss_ready = proc_status()
        print("READY", flush=True)
        cpu_start, started, ticks = cpu_seconds(), time.time(), cpu_ticks()
        contender.start_publisher()
        peak_rss = 0.0
        deadline = time.monotonic() + args.timeout
        while not recorder.done.wait(0.25):
            peak_rss = max(peak_rss, proc_status().get("VmRSS", 0.0))
            if time.monotonic() > deadline:
                result["error"] = f"timed out: {recorder.count} of {args.events} events handled"
                break
        cpu_used = cpu_seconds() - cpu_start
        result["machine_busy_percent"] = busy_percent(ticks, cpu_ticks())
        status = proc_status()
        result.update(
            started=started,
            cpu_seconds=cpu_used,
            rss_mb_ready=rss_ready.get("VmRSS"),
            rss_mb_end=status.get("VmRSS"),
            rss_mb_peak=max(peak_rss, status.get("VmHWM", 0.0)),
            settings=contender.settings,
        )
    except Exception:
        result["error"] = traceback.format_exc()
    finally:
        stopper = threading.Thread(
            target=_stop, args=(contender, stop_timeout, result), daemon=True
        )
        stopper.start()
        stopper.join(stop_timeout * 3)
        if stopper.is_alive():
            result.setdefault("error", "the contender did not stop in time")
    result["commits"] = recorder.commits
    result["confirms"] = recorder.confirms
    try:
        result["verify"] = verify(database, contender.name)
    except Exception:
        result.setdefault("error", traceback.format_exc())
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def _read_orders(recorder: Recorder) -> None:
    """``EXPECT n`` on stdin: the producer wrote n events in the end (it may have fallen behind)."""
    for line in sys.stdin:
        if line.startswith("EXPECT "):
            recorder.expect(int(line.split()[1]))


def _stop(contender: Any, timeout: float, result: dict[str, Any]) -> None:
    try:
        contender.stop(timeout)
    except Exception:
        result.setdefault("error", traceback.format_exc())


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    # Daemon threads of a framework that would not stop must not hold the process.
    import os

    os._exit(code)
