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

from bench.common import Recorder, cpu_seconds, proc_status, verify
from bench.contenders import NAMES, Options
from shared.db import Database
from shared.logging import configure_logging

MODULES = {name: f"bench.contenders.{name}_bus" for name in NAMES}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.worker")
    parser.add_argument("contender", choices=NAMES)
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
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    configure_logging(getattr(logging, args.log_level.upper()))
    options = Options(
        kind=args.kind,
        relay_batch_size=args.relay_batch_size,
        relay_idle_poll_seconds=args.relay_idle_poll,
        profile_dir=args.profile_dir,
    )
    database = Database(args.database_url)
    recorder = Recorder(args.events)
    module = importlib.import_module(MODULES[args.contender])
    contender = module.Contender(database, args.amqp_url, recorder, options)
    result: dict[str, Any] = {"contender": args.contender, "kind": args.kind, "events": args.events}
    stop_timeout = 20.0
    try:
        contender.start_consumer(timeout=60)
        rss_ready = proc_status()
        print("READY", flush=True)
        cpu_start, started = cpu_seconds(), time.time()
        contender.start_publisher()
        peak_rss = 0.0
        deadline = time.monotonic() + args.timeout
        while not recorder.done.wait(0.25):
            peak_rss = max(peak_rss, proc_status().get("VmRSS", 0.0))
            if time.monotonic() > deadline:
                result["error"] = f"timed out: {recorder.count} of {args.events} events handled"
                break
        cpu_used = cpu_seconds() - cpu_start
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
    try:
        result["verify"] = verify(database, contender.name)
    except Exception:
        result.setdefault("error", traceback.format_exc())
    print("RESULT " + json.dumps(result), flush=True)
    return 0


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
