"""The reply checker as the desk runs it before a reply leaves: training's checks, with the
owner's tuning as training announced it and the desk's own customer directory, compiled
once and rebuilt only when either changes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets.models import CheckerTuning, CustomerReplica
from services.training.checker import KnownCustomer, ReplyChecker, default_lexicon
from services.training.checker.lexicon import with_overrides
from services.training.checking import CheckerCache, directory_stamp, private_domain

_checkers = CheckerCache()


def _overrides(session: Session) -> dict[str, dict[str, Any]]:
    return {
        row.check_key: json.loads(row.overrides)
        for row in session.execute(select(CheckerTuning)).scalars()
    }


def checker(session: Session) -> ReplyChecker:
    overrides = _overrides(session)
    stamp = (json.dumps(overrides, sort_keys=True), directory_stamp(session, CustomerReplica))

    def build() -> ReplyChecker:
        customers = [
            KnownCustomer(row.customer_id, row.name, row.email, private_domain(row.email))
            for row in session.execute(select(CustomerReplica)).scalars()
        ]
        return ReplyChecker(with_overrides(default_lexicon(), overrides), customers)

    return _checkers.get(stamp, build)
