"""The reply checker as the desk runs it before a reply leaves: training's checks, with the
owner's tuning as training announced it and the desk's own customer directory, compiled
once and rebuilt only when either changes."""

from __future__ import annotations

import json
import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.tickets.models import CheckerTuning, CustomerReplica
from services.training.checker import KnownCustomer, ReplyChecker, default_lexicon
from services.training.checker.lexicon import with_overrides
from services.training.checking import private_domain

_cache: dict[str, Any] = {}
_lock = threading.Lock()


def _overrides(session: Session) -> dict[str, dict[str, Any]]:
    return {
        row.check_key: json.loads(row.overrides)
        for row in session.execute(select(CheckerTuning)).scalars()
    }


def checker(session: Session) -> ReplyChecker:
    overrides = _overrides(session)
    stamp = (
        json.dumps(overrides, sort_keys=True),
        tuple(
            session.execute(
                select(
                    func.count(),
                    func.max(CustomerReplica.customer_id),
                    func.sum(
                        func.length(CustomerReplica.name)
                        + func.coalesce(func.length(CustomerReplica.email), 0)
                    ),
                )
            ).one()
        ),
    )
    with _lock:
        if _cache.get("stamp") == stamp:
            cached: ReplyChecker = _cache["checker"]
            return cached
    customers = [
        KnownCustomer(row.customer_id, row.name, row.email, private_domain(row.email))
        for row in session.execute(select(CustomerReplica)).scalars()
    ]
    built = ReplyChecker(with_overrides(default_lexicon(), overrides), customers)
    with _lock:
        _cache.update(stamp=stamp, checker=built)
    return built
