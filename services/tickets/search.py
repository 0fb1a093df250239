"""Finding tickets for the desk's queue: filters, and a search over what staff remember of
a ticket (its subject, who wrote in, its reference, any of its messages).

A search finds the tickets in which every word of the query appears, each word anywhere:
one in the subject and another in a message is a match. On PostgreSQL prose (subject,
requester's name, message bodies) is matched word by word with full-text search in the
``simple`` configuration (no stemming, so a word matches itself in any case and only
itself); on SQLite each word is looked for inside the lower-cased text. The email address
and reference are identifiers, matched as substrings on both, so part of an address or
a pasted reference finds its ticket.

On PostgreSQL a ticket's prose is kept as one ``tsvector``, ``ticket_words.words``
(migration 0013, kept current by triggers), so that the tickets with every word of a query
come from one GIN index; the identifiers are read from trigram indexes (migration 0012,
whose expressions must stay identical to ``_identifiers``)::

    CREATE INDEX ix_ticket_words ON ticket_words USING gin (words);
    CREATE INDEX ix_tickets_email_trgm ON tickets
        USING gin (lower(requester_email) gin_trgm_ops);
    CREATE INDEX ix_tickets_reference_trgm ON tickets USING gin (lower(reference) gin_trgm_ops);

A page and the count of all matches come from one statement (``page_with_total``), so
the matching is done once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    UnaryExpression,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from services.tickets.models import Message, Ticket

PAGE_SIZE = 50
Order = Sequence[UnaryExpression[Any]]
"""A page's order: columns, each ascending or descending."""
MAX_WORDS = 8
"""More words than this in a query are ignored: each one is a condition of its own."""

# Literal SQL rather than a bound parameter, as the migration's triggers make the words.
_SIMPLE = literal_column("'simple'", String())
_TICKET_WORDS = table(
    "ticket_words", column("ticket_id", Integer()), column("words", postgresql.TSVECTOR())
)
"""PostgreSQL's table of each ticket's words (migration 0013); SQLite has none."""


@dataclass(frozen=True)
class TicketSearch:
    text: str = ""
    statuses: tuple[str, ...] = ()
    """Any of these statuses; empty for all."""
    department: str | None = None
    priority: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    """Only tickets nobody is assigned to (``assignee_id`` is then ignored)."""
    customer_id: int | None = None
    page: int = 1


def search_tickets(session: Session, search: TicketSearch) -> tuple[list[Ticket], int]:
    """One page of matching tickets, newest first, and how many match in all."""
    # Ids are given in the order tickets are opened, so the newest have the highest, and
    # the order needs nothing but the ids the matching gives.
    newest_first: Order = [Ticket.id.desc()]
    filters = _filters(search)
    words = query_words(search.text)
    if not filters and words and _postgres(session):
        # Words alone: their matching ids are all the page and the count need, without a
        # pass over every ticket to meet them.
        matching = _matching_ids(words).subquery()
        numbered = select(matching.c.id, func.count().over().label("total")).order_by(
            matching.c.id.desc()
        )
        counted = select(func.count()).select_from(matching)
        return _page_of(session, numbered, counted, newest_first, search.page)
    return page_with_total(
        session, filters + text_conditions(session, search.text), newest_first, search.page
    )


def page_with_total(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    order: Order,
    page: int,
) -> tuple[list[Ticket], int]:
    """One page of the tickets meeting ``conditions`` in ``order``, and how many do in all.

    One statement: the page's ids and the count of every match (a window over them) come
    from a subquery that reads only the ids and the order's columns; then only the page's
    tickets are read whole."""
    numbered = select(Ticket.id.label("id"), func.count().over().label("total")).where(*conditions)
    counted = select(func.count()).select_from(Ticket).where(*conditions)
    return _page_of(session, numbered.order_by(*order), counted, order, page)


def _page_of(
    session: Session,
    numbered: Select[int, int],
    counted: Select[int],
    order: Order,
    page: int,
) -> tuple[list[Ticket], int]:
    """The tickets of ``page`` of ``numbered`` (ids in order, each with the count of all),
    and the count. Past the last page no row carries the count: ``counted`` is asked."""
    chosen = numbered.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE).subquery()
    rows = session.execute(
        select(Ticket, chosen.c.total).join(chosen, chosen.c.id == Ticket.id).order_by(*order)
    ).all()
    if rows:
        return [ticket for ticket, _ in rows], int(rows[0].total)
    if page == 1:
        return [], 0
    return [], int(session.execute(counted).scalar_one())


def query_words(text: str) -> list[str]:
    words = list(dict.fromkeys(word.lower() for word in text.split()))
    return words[:MAX_WORDS]


def text_conditions(session: Session, text: str) -> list[ColumnElement[bool]]:
    """The conditions for every word of ``text`` to appear in the ticket; none for no words."""
    words = query_words(text)
    if not words:
        return []
    if _postgres(session):
        return [Ticket.id.in_(_matching_ids(words))]
    return [_substring(word) for word in words]


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _filters(search: TicketSearch) -> list[ColumnElement[bool]]:
    """The search's conditions but its words."""
    conditions: list[ColumnElement[bool]] = []
    if search.statuses:
        conditions.append(Ticket.status.in_(search.statuses))
    if search.department is not None:
        conditions.append(Ticket.department == search.department)
    if search.priority is not None:
        conditions.append(Ticket.priority == search.priority)
    if search.unassigned:
        conditions.append(Ticket.assignee_id.is_(None))
    elif search.assignee_id is not None:
        conditions.append(Ticket.assignee_id == search.assignee_id)
    if search.customer_id is not None:
        conditions.append(Ticket.customer_id == search.customer_id)
    return conditions


def _contains(column: InstrumentedAttribute[str], word: str) -> ColumnElement[bool]:
    # autoescape: a "%" or "_" the user typed is looked for, not taken as a wildcard.
    return func.lower(column).contains(word, autoescape=True)


def _identifiers(ticket: type[Ticket], word: str) -> ColumnElement[bool]:
    return or_(_contains(ticket.requester_email, word), _contains(ticket.reference, word))


def _substring(word: str) -> ColumnElement[bool]:
    in_messages = exists().where(Message.ticket_id == Ticket.id, _contains(Message.body, word))
    return or_(
        _contains(Ticket.subject, word),
        _contains(Ticket.requester_name, word),
        _identifiers(Ticket, word),
        in_messages,
    )


def _matching_ids(words: list[str]) -> Select[int] | CompoundSelect[int]:
    """The ids of the tickets in which each word is either among the ticket's words or part
    of an identifier.

    Asked word by word, a common word is tens of thousands of tickets to intersect with the
    next word's. So a ticket matches in one of two ways, each answered by indexes: its
    words have every word of the query (the GIN index intersects them), or some word is
    part of one of its identifiers (the trigram indexes) and each of the others is among
    its words or its identifiers."""
    queries: dict[str, ColumnElement[Any]] = {
        word: func.plainto_tsquery(_SIMPLE, word) for word in words if _has_lexeme(word)
    }
    matched = aliased(Ticket)
    in_words = _TICKET_WORDS.c.words.bool_op("@@")

    def found(word: str) -> ColumnElement[bool]:
        in_identifiers = _identifiers(matched, word)
        return or_(in_words(queries[word]), in_identifiers) if word in queries else in_identifiers

    by_identifier = (
        select(matched.id)
        .outerjoin(_TICKET_WORDS, _TICKET_WORDS.c.ticket_id == matched.id)
        .where(or_(*(_identifiers(matched, word) for word in words)), *map(found, words))
    )
    if len(queries) < len(words):
        return by_identifier
    every_word = functools.reduce(lambda one, other: one.op("&&")(other), queries.values())
    by_words = select(_TICKET_WORDS.c.ticket_id.label("id")).where(in_words(every_word))
    return union(by_words, by_identifier)


def _has_lexeme(word: str) -> bool:
    # Punctuation alone has no lexeme to look for; PostgreSQL would only warn.
    return any(character.isalnum() for character in word)
