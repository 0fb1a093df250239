"""A tickets database as a hosting desk has it after three years: the desk benchmark's seed.

``seed(url, count)`` migrates the database and writes, with COPY (``shared.db.insert_rows``):

- the staff: an owner, eight agents, billing and a trainee;
- one customer replica per 20 tickets (5,000 for 100,000), a few of whom write often and
  most seldom, with their deliveries and some notes;
- ``count`` tickets, ids in the order they were opened: 88.5 % closed and 7.5 % resolved,
  the rest new, open, waiting or on hold (4,000 in 100,000); emergencies now and then;
- 2-6 messages each (customer and staff in turns, ending with whoever the status says),
  some internal notes, a few replies held for review; each change in the ticket's history;
  a pause for every wait on the customer; ratings for a quarter of the resolved;
- the next SLA deadline and warning of each open ticket, from the desk's own clock
  (``clocks.state_of``, as ``clocks.refresh`` keeps them).

The texts come from ``bench.desk_corpus``; the same ``count`` always gives the same rows,
except for the moments, which are relative to the time of seeding (the SLA clocks run on
the real clock).
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, text

import services.tickets as tickets_service
from bench import desk_corpus as corpus
from services.tickets import clocks, sla
from services.tickets.models import OPEN_STATUSES, Base, Ticket
from shared.db import Database, insert_rows
from shared.migrations import upgrade

SEED = 20261201
CHUNK = 5_000
"""Tickets written per transaction."""
TICKETS_PER_CUSTOMER = 20
STATUS_SHARES = (
    ("closed", 0.885),
    ("resolved", 0.075),
    ("new", 0.005),
    ("open", 0.017),
    ("waiting", 0.013),
    ("on_hold", 0.005),
)
"""Most of a desk's tickets are long closed; a few thousand in 100,000 are still open."""
AGE_DAYS = {
    "closed": (1095.0, 3.0),
    "resolved": (30.0, 0.05),
    "new": (2.0, 0.0),
    "open": (30.0, 0.0),
    "waiting": (30.0, 0.05),
    "on_hold": (60.0, 0.0),
}
"""How long ago each status's tickets were opened: (oldest, newest) in days."""
STAFF = (
    ("owner", "Helena Duarte"),
    ("agent", "Bruno Teixeira"),
    ("agent", "Carla Menezes"),
    ("agent", "Diego Fuentes"),
    ("agent", "Elisa Moura"),
    ("agent", "Felipe Rocha"),
    ("agent", "Gabriela Nunes"),
    ("agent", "Hugo Barros"),
    ("agent", "Irene Castillo"),
    ("billing", "Julio Prado"),
    ("trainee", "Karina Lopes"),
)
"""Ids 1, 2, ... in this order."""
OWNER_EMAIL = "helena@cortesia.example"
TRAINEE_ID = len(STAFF)
PRIORITY_WEIGHTS = {"low": 15, "normal": 60, "high": 20, "urgent": 5}
CHANNEL_WEIGHTS = {"portal": 50, "email": 35, "phone": 10, "api": 5}
ANSWERED = ("resolved", "closed")
TABLE_ORDER = (
    "customers",
    "deliveries",
    "customer_notes",
    "tickets",
    "messages",
    "pauses",
    "ticket_history",
    "ratings",
    "suggested_scripts",
)
SEQUENCES = ("staff", "tickets", "messages", "pauses", "ticket_history", "customer_notes")


def staff_email(staff_id: int) -> str:
    return f"{STAFF[staff_id - 1][1].split()[0].lower()}@cortesia.example"


def first_agent() -> int:
    return next(n for n, (role, _) in enumerate(STAFF, start=1) if role == "agent")


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str
    language: str
    site: str


@dataclass
class Rows:
    """Rows waiting to be written, by table, and the next id of each table."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ids: dict[str, Iterator[int]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        self.tables.setdefault(table, []).append(row)
        return row

    def next_id(self, table: str) -> int:
        return next(self.ids.setdefault(table, itertools.count(1)))

    def write(self, database: Database) -> Counter[str]:
        """Write what is waiting in one transaction; how many rows went to each table."""
        with database.transaction() as session:
            for name in TABLE_ORDER:
                insert_rows(session, _table(name), self.tables.get(name, []))
        written = Counter({name: len(rows) for name, rows in self.tables.items()})
        self.tables = {}
        return written


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


# -- people -----------------------------------------------------------------------------


def _staff_rows(created: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": number,
            "name": name,
            "email": staff_email(number),
            "role": role,
            # Nobody signs in with a password here: the benchmark makes the session cookie.
            "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$bench$bench",
            "active": True,
            "created_at": created,
        }
        for number, (role, name) in enumerate(STAFF, start=1)
    ]


def _customers(rng: random.Random, count: int) -> list[Customer]:
    customers = []
    for number in range(1, count + 1):
        language = rng.choices(corpus.LANGUAGES, (60, 20, 20))[0]
        name = corpus.person(rng, language)
        site = corpus.domain(rng, language)
        first = name.split()[0].lower()
        email = f"{first}{number}@{site}" if rng.random() < 0.7 else f"{first}.{number}@gmail.com"
        customers.append(Customer(number, name, email, language, site))
    return customers


def _add_customer(rng: random.Random, customer: Customer, now: datetime, rows: Rows) -> None:
    billing = rng.choices(("active", "overdue", "suspended", "cancelled"), (90, 5, 3, 2))[0]
    grace = now - timedelta(days=rng.randint(30, 700)) if rng.random() < 0.08 else None
    rows.add(
        "customers",
        {
            "customer_id": customer.id,
            "name": customer.name,
            "email": customer.email,
            "language": customer.language,
            "timezone": rng.choice(corpus.TIMEZONES[customer.language]),
            "managed": rng.random() < 0.1,
            "billing_status": billing,
            "suspended_subscription_id": customer.id if billing == "suspended" else None,
            "subscription_id": customer.id,
            "grace_used_on": grace.date() if grace else None,
            "billing_note": None,
        },
    )
    events = ("billing.invoice_issued.v1", "billing.payment_received.v1", "tickets.reply_sent.v1")
    for number in range(rng.randint(0, 8)):
        rows.add(
            "deliveries",
            {
                "notification_id": customer.id * 10 + number,
                "customer_id": customer.id,
                "source_event_type": rng.choice(events),
                "channel": "email",
                "status": "sent" if rng.random() < 0.95 else "failed",
                "detail": None,
                "at": now - timedelta(hours=rng.uniform(1, 24 * 365)),
            },
        )
    if rng.random() < 0.2:
        rows.add(
            "customer_notes",
            {
                "id": rows.next_id("customer_notes"),
                "customer_id": customer.id,
                "at": now - timedelta(days=rng.uniform(1, 400)),
                "author": OWNER_EMAIL,
                "body": "Prefere contato por telefone; o site da empresa é crítico.",
            },
        )


# -- tickets ----------------------------------------------------------------------------


def _schedule(rng: random.Random, count: int, now: datetime) -> list[tuple[datetime, str]]:
    """When each ticket was opened and the status it has now, oldest first (the id order)."""
    planned = []
    remaining = count
    for index, (status, share) in enumerate(STATUS_SHARES):
        many = (
            remaining if index == len(STATUS_SHARES) - 1 else min(remaining, round(count * share))
        )
        remaining -= many
        oldest, newest = AGE_DAYS[status]
        for _ in range(many):
            age = timedelta(days=rng.uniform(newest, oldest), minutes=rng.uniform(5, 60))
            planned.append((now - age, status))
    planned.sort()
    return planned


def _turns(rng: random.Random, status: str) -> list[str]:
    """Who wrote, in order: a new ticket has no answer yet, an open one waits on staff,
    the others last heard from staff."""
    if status == "new":
        return ["customer", "customer"]
    turns = ["customer", "staff"] * rng.randint(1, 3)
    return [*turns, "customer"] if status == "open" else turns


class Story:
    """One ticket's life, told in the rows the desk would have written along the way."""

    def __init__(self, ticket_id: int, rows: Rows) -> None:
        self.ticket_id = ticket_id
        self.rows = rows
        self.status = "new"
        self.open_pause: dict[str, Any] | None = None
        self.messages: list[dict[str, Any]] = []
        self.pauses: list[dict[str, Any]] = []

    def change(self, at: datetime, actor: str, what: str, detail: str | None = None) -> None:
        self.rows.add(
            "ticket_history",
            {
                "id": self.rows.next_id("ticket_history"),
                "ticket_id": self.ticket_id,
                "at": at,
                "actor": actor,
                "change": what,
                "detail": detail,
            },
        )

    def move(self, at: datetime, actor: str, status: str) -> None:
        """A status change; waiting on the customer stops the clock until they answer."""
        if status == self.status:
            return
        if self.open_pause is not None:
            self.open_pause["ended_at"] = at
            self.open_pause = None
        if status == "waiting":
            self.open_pause = self.rows.add(
                "pauses",
                {
                    "id": self.rows.next_id("pauses"),
                    "ticket_id": self.ticket_id,
                    "started_at": at,
                    "ended_at": None,
                },
            )
            self.pauses.append(self.open_pause)
        self.change(at, actor, "status", f"{self.status} → {status}")
        self.status = status

    def message(
        self,
        at: datetime,
        author: str,
        body: str,
        staff_id: int | None = None,
        internal: bool = False,
        state: str = "sent",
    ) -> int:
        message_id = self.rows.next_id("messages")
        self.messages.append(
            self.rows.add(
                "messages",
                {
                    "id": message_id,
                    "ticket_id": self.ticket_id,
                    "author": author,
                    "staff_id": staff_id,
                    "body": body,
                    "internal": internal,
                    "state": state,
                    "findings": "[]" if state == "held" else None,
                    "override_note": None,
                    "review_comment": None,
                    "reviewed_by": None,
                    "created_at": at,
                },
            )
        )
        return message_id


@dataclass(frozen=True)
class Requester:
    customer: Customer | None
    name: str
    email: str
    language: str
    site: str


def _requester(rng: random.Random, ticket_id: int, customer: Customer | None) -> Requester:
    if customer is not None:
        return Requester(customer, customer.name, customer.email, customer.language, customer.site)
    language = rng.choice(corpus.LANGUAGES)
    name = corpus.person(rng, language)
    site = corpus.domain(rng, language)
    return Requester(None, name, f"{name.split()[0].lower()}{ticket_id}@{site}", language, site)


def add_ticket(
    rng: random.Random,
    ticket_id: int,
    created: datetime,
    status: str,
    customer: Customer | None,
    now: datetime,
    rows: Rows,
) -> None:
    """One ticket with its messages, pauses, history, rating and script."""
    who = _requester(rng, ticket_id, customer)
    language = who.language
    emergency = rng.random() < 0.004
    topic = rng.choice(
        [t for t in corpus.TOPICS if t.emergency_kind] if emergency else corpus.TOPICS
    )
    helper = rng.choice([n for n, (role, _) in enumerate(STAFF, start=1) if role != "owner"][:-1])
    unassigned = status == "new" or (status in OPEN_STATUSES and rng.random() < 0.2)
    assignee = None if unassigned else helper
    agent = staff_email(helper)
    fill = corpus.fillers(rng, language, who.site, who.name, STAFF[helper - 1][1])
    channel = _weighted(rng, CHANNEL_WEIGHTS)

    # Hours from the opening to each message, squeezed to end before now.
    turns = _turns(rng, status)
    offsets = [0.0]
    for author in turns[1:]:
        gap = rng.uniform(0.2, 20) if author == "staff" else rng.uniform(0.5, 48)
        offsets.append(offsets[-1] + gap)
    resolved_after = offsets[-1] + rng.uniform(0.05, 2)
    closed_after = resolved_after + rng.uniform(48, 168)
    last = closed_after if status == "closed" else resolved_after
    scale = min(1.0, ((now - created).total_seconds() / 3600 - 0.05) / last)

    def moment(hours: float) -> datetime:
        return created + timedelta(hours=hours * scale)

    story = Story(ticket_id, rows)
    story.change(created, who.email if channel in ("portal", "email") else agent, "opened",
                 f"via {channel}")  # fmt: skip
    if assignee is not None:
        story.change(created + timedelta(minutes=3), OWNER_EMAIL, "assigned", str(assignee))
    replies = turns.count("staff")
    first_response = last_staff = last_customer = customer_turn = None
    for index, (author, hours) in enumerate(zip(turns, offsets, strict=True)):
        at = moment(hours)
        if author == "customer":
            if index == 0:
                body = corpus.first_message(rng, topic, language, fill)
            else:
                body = corpus.follow_up(rng, topic, language, fill)
            story.message(at, "customer", body)
            last_customer = at
            customer_turn = customer_turn or at
            if story.status == "waiting":
                story.move(at, who.email, "open")
            continue
        replies -= 1
        solves = replies == 0 and status in ANSWERED
        reply = story.message(
            at, "staff", corpus.staff_reply(rng, topic, language, fill, solves), helper
        )
        first_response = first_response or at
        last_staff, customer_turn = at, None
        story.change(at, agent, "replied", f"message {reply}")
        if replies == 0 and status in ("waiting", "on_hold"):
            story.move(at, agent, status)
        elif replies or status not in ANSWERED:
            story.move(at, agent, "waiting" if rng.random() < 0.6 else "open")
        if rng.random() < 0.12:
            noted = at + timedelta(minutes=2)
            story.message(noted, "staff", corpus.note(rng, fill), helper, internal=True)
            story.change(noted, agent, "note")
    if status in OPEN_STATUSES and assignee is not None and rng.random() < 0.003:
        held = corpus.staff_reply(rng, topic, language, fill, True)
        story.message(moment(offsets[-1]), "staff", held, TRAINEE_ID, state="held")

    resolved_at = moment(resolved_after) if status in ANSWERED else None
    closed_at = moment(closed_after) if status == "closed" else None
    cause = fix = prevention = None
    if resolved_at is not None:
        cause, fix, prevention = (part.format_map(fill) for part in topic.resolution[language])
        story.status = "resolved"
        story.change(resolved_at, agent, "resolved", cause)
        if rng.random() < 0.25:
            comment = rng.choice(corpus.RATING_COMMENTS[language]) if rng.random() < 0.4 else None
            rows.add(
                "ratings",
                {
                    "ticket_id": ticket_id,
                    "rating": rng.choices((1, 2, 3, 4, 5), (3, 4, 10, 33, 50))[0],
                    "comment": comment,
                    "rated_at": resolved_at + (closed_at - resolved_at) / 2
                    if closed_at
                    else resolved_at,
                },
            )
    if closed_at is not None:
        story.change(closed_at, "system", "closed", "after resolution")
    if status in OPEN_STATUSES and rng.random() < 0.1:
        rows.add(
            "suggested_scripts",
            {
                "ticket_id": ticket_id,
                "playbook_id": f"{topic.key.replace('_', '-')}-basics",
                "situation": topic.key,
                "version": 1,
                "reason": f"The ticket reads like {topic.key.replace('_', ' ')}.",
            },
        )
    tags = [topic.key.replace("_", "-")] if rng.random() < 0.4 else []
    if who.customer is not None and rng.random() < 0.05:
        tags.append("vip")
    latest = max(message["created_at"] for message in story.messages)
    ticket: dict[str, Any] = {
        "id": ticket_id,
        "reference": f"T-{ticket_id}-{rng.randbytes(3).hex()}",
        "subject": rng.choice(topic.subjects[language]).format_map(fill),
        "customer_id": who.customer.id if who.customer else None,
        "requester_name": who.name,
        "requester_email": who.email,
        "language": language,
        "channel": channel,
        "department": topic.department,
        "priority": "urgent" if emergency else _weighted(rng, PRIORITY_WEIGHTS),
        "status": status,
        "emergency": emergency,
        "emergency_kind": topic.emergency_kind if emergency else None,
        "assignee_id": assignee,
        "tags": ",".join(tags),
        "created_at": created,
        "updated_at": closed_at or resolved_at or latest,
        "first_response_at": first_response,
        "last_customer_message_at": last_customer,
        "customer_turn_at": customer_turn,
        "last_staff_reply_at": last_staff,
        "resolved_at": resolved_at,
        "closed_at": closed_at,
        "cause": cause,
        "fix": fix,
        "prevention": prevention,
        "resolved_by": helper if resolved_at else None,
        "next_due_at": None,
        "warn_at": None,
        "resolved_standing": None,
        "sla_alerted": "",
        "follow_up_at": None,
        "closing_notice_at": None,
    }
    if status in OPEN_STATUSES:
        ticket["next_due_at"], ticket["warn_at"] = _clock_moments(ticket, story.pauses, now)
    elif resolved_at is not None:
        ticket["resolved_standing"] = _stopped_standing(ticket, story.pauses, now)
    rows.add("tickets", ticket)


def _clock_moments(
    row: dict[str, Any], pauses: list[dict[str, Any]], now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The deadline the queue sorts by and the moment it warns at, from the desk's own
    clock, as ``clocks.refresh`` keeps them."""
    spans = [sla.Pause(pause["started_at"], pause["ended_at"]) for pause in pauses]
    state = clocks.state_of(Ticket(**row), spans, sla.SlaTargets(), now)
    due, warn = state.next_due_at, state.warn_at
    return (due.astimezone(UTC) if due else None, warn.astimezone(UTC) if warn else None)


def _stopped_standing(row: dict[str, Any], pauses: list[dict[str, Any]], now: datetime) -> str:
    """A resolved ticket's outcome, met or missed, as ``clocks.refresh`` keeps it."""
    spans = [sla.Pause(pause["started_at"], pause["ended_at"]) for pause in pauses]
    return clocks.state_of(Ticket(**row), spans, sla.SlaTargets(), now).worst.value


# -- the whole database -----------------------------------------------------------------


def seed(url: str, count: int) -> dict[str, int]:
    """Migrate ``url`` and fill it with ``count`` tickets; the rows written, by table."""
    upgrade(tickets_service.MIGRATIONS, url)
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    database = Database(url)
    with database.transaction() as session:
        insert_rows(session, _table("staff"), _staff_rows(now - timedelta(days=1200)))
    rows = Rows()
    customers = _customers(rng, max(50, count // TICKETS_PER_CUSTOMER))
    for customer in customers:
        _add_customer(rng, customer, now, rows)
    written = rows.write(database)
    # A few customers write often, most seldom.
    weights = list(itertools.accumulate(1 / (rank + 5) ** 0.9 for rank in range(len(customers))))
    schedule = _schedule(rng, count, now)
    for start in range(0, count, CHUNK):
        for number, (created, status) in enumerate(schedule[start : start + CHUNK], start + 1):
            owner = None if rng.random() < 0.08 else rng.choices(customers, cum_weights=weights)[0]
            add_ticket(rng, number, created, status, owner, now, rows)
        written += rows.write(database)
    autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection:
        # Explicit ids were given: move the sequences past them.
        for table in SEQUENCES:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
        # A live database has its planner statistics and visibility map; a freshly loaded
        # one needs them made.
        connection.execute(text("VACUUM ANALYZE"))
    database.dispose()
    return {"staff": len(STAFF), **written}
