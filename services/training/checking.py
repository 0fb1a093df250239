"""The reply checker as training runs it: the owner's tuning and the customer directory
from training's database, compiled once and rebuilt only when either changes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.training.checker import CHECK_KEYS, KnownCustomer, ReplyChecker, default_lexicon
from services.training.checker.lexicon import Lexicon, LexiconError, with_overrides
from services.training.models import CheckerSetting, CustomerReplica
from shared.bus.outbox import record_event

PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "hotmail.com", "outlook.com", "live.com", "msn.com",
        "yahoo.com", "yahoo.com.br", "yahoo.es", "icloud.com", "me.com", "uol.com.br",
        "bol.com.br", "terra.com.br", "ig.com.br", "globo.com", "proton.me", "protonmail.com",
        "gmx.com", "aol.com", "prodigy.net.mx",
    }
)  # fmt: skip
"""A customer's address at one of these says nothing about which customer they are."""


def overrides(session: Session) -> dict[str, dict[str, Any]]:
    rows = session.execute(select(CheckerSetting)).scalars()
    return {row.check_key: json.loads(row.overrides) for row in rows}


def lexicon(session: Session) -> Lexicon:
    return with_overrides(default_lexicon(), overrides(session))


def save_overrides(
    session: Session, check_key: str, change: dict[str, Any], updated_by: str
) -> Lexicon:
    """Store the owner's tuning of one check (validated against the defaults first)."""
    if check_key not in CHECK_KEYS:
        raise LexiconError(f"There is no check {check_key}.")
    tuned = with_overrides(lexicon(session), {check_key: change})
    stored = {**overrides(session).get(check_key, {}), **change}
    session.merge(
        CheckerSetting(check_key=check_key, overrides=json.dumps(stored), updated_by=updated_by)
    )
    record_event(
        session,
        "training",
        "training.checker_tuned.v1",
        {"check_key": check_key, "overrides": stored, "updated_by": updated_by},
    )
    return tuned


def directory(session: Session) -> list[KnownCustomer]:
    return [
        KnownCustomer(row.customer_id, row.name, row.email, private_domain(row.email))
        for row in session.execute(select(CustomerReplica)).scalars()
    ]


def private_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower()
    return None if domain in PUBLIC_MAIL_DOMAINS else domain


class CheckerCache:
    """One compiled checker, rebuilt only when what it was built from changes: compiling
    the lexicon and the directory costs far more than a check. The desk keeps one too,
    over its own replicas."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: Any = None
        self._checker: ReplyChecker | None = None

    def get(self, stamp: Any, build: Callable[[], ReplyChecker]) -> ReplyChecker:
        with self._lock:
            if self._checker is not None and self._stamp == stamp:
                return self._checker
        built = build()
        with self._lock:
            self._stamp, self._checker = stamp, built
        return built


def directory_stamp(session: Session, customers: Any) -> tuple[Any, ...]:
    """A cheap fingerprint of a customer directory table (with ``customer_id``, ``name``
    and ``email``) that changes whenever a customer is added, renamed or re-addressed."""
    return tuple(
        session.execute(
            select(
                func.count(),
                func.max(customers.customer_id),
                func.sum(
                    func.length(customers.name) + func.coalesce(func.length(customers.email), 0)
                ),
            )
        ).one()
    )


_checkers = CheckerCache()


def checker(session: Session) -> ReplyChecker:
    """The checker for the current tuning and directory, built again only after a change."""
    stamp = (
        json.dumps(overrides(session), sort_keys=True),
        directory_stamp(session, CustomerReplica),
    )
    return _checkers.get(stamp, lambda: ReplyChecker(lexicon(session), directory(session)))
