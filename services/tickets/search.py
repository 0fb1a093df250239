"""Finding tickets for the desk's queue: filters, and a search over what staff remember of
a ticket (its subject, who wrote in, its reference, any of its messages).

A search finds the tickets in which every word of the query appears, each word anywhere:
one in the subject and another in a message is a match. On PostgreSQL prose (subject,
requester's name, message bodies) is matched word by word with full-text search in the
``simple`` configuration (no stemming, so a word matches itself in any case and only
itself); on SQLite each word is looked for inside the lower-cased text. The email address
and reference are identifiers, matched as substrings on both, so part of an address or
a pasted reference finds its ticket.

PostgreSQL answers from these indexes when they exist (the expressions must stay
identical to ``_prose_vector`` and ``_body_vector``)::

    CREATE INDEX ix_tickets_prose_fts ON tickets
        USING gin (to_tsvector('simple', subject || ' ' || requester_name));
    CREATE INDEX ix_messages_body_fts ON messages USING gin (to_tsvector('simple', body));
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, exists, func, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from services.tickets.models import Message, Ticket

PAGE_SIZE = 50
MAX_WORDS = 8
"""More words than this in a query are ignored: each one is a condition of its own."""

# Literal SQL rather than bound parameters, so that PostgreSQL sees the indexed expression.
_SIMPLE = literal_column("'simple'", String())
_SPACE = literal_column("' '", String())


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
    conditions = _conditions(session, search)
    total = session.execute(
        select(func.count()).select_from(Ticket).where(*conditions)
    ).scalar_one()
    page = (
        select(Ticket)
        .where(*conditions)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(PAGE_SIZE)
        .offset((search.page - 1) * PAGE_SIZE)
    )
    return list(session.execute(page).scalars()), int(total)


def query_words(text: str) -> list[str]:
    words = list(dict.fromkeys(word.lower() for word in text.split()))
    return words[:MAX_WORDS]


def _conditions(session: Session, search: TicketSearch) -> list[ColumnElement[bool]]:
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
    postgres = session.get_bind().dialect.name == "postgresql"
    for word in query_words(search.text):
        conditions.append(_full_text(word) if postgres else _substring(word))
    return conditions


def _contains(column: InstrumentedAttribute[str], word: str) -> ColumnElement[bool]:
    # autoescape: a "%" or "_" the user typed is looked for, not taken as a wildcard.
    return func.lower(column).contains(word, autoescape=True)


def _identifiers(word: str) -> list[ColumnElement[bool]]:
    return [_contains(Ticket.requester_email, word), _contains(Ticket.reference, word)]


def _substring(word: str) -> ColumnElement[bool]:
    in_messages = exists().where(Message.ticket_id == Ticket.id, _contains(Message.body, word))
    return or_(
        _contains(Ticket.subject, word),
        _contains(Ticket.requester_name, word),
        *_identifiers(word),
        in_messages,
    )


def _prose_vector(ticket: type[Ticket]) -> ColumnElement[str]:
    return func.to_tsvector(_SIMPLE, ticket.subject + _SPACE + ticket.requester_name)


def _body_vector() -> ColumnElement[str]:
    return func.to_tsvector(_SIMPLE, Message.body)


def _full_text(word: str) -> ColumnElement[bool]:
    if not any(character.isalnum() for character in word):
        # Punctuation alone has no lexeme to look for; PostgreSQL would only warn.
        return or_(*_identifiers(word))
    query = func.plainto_tsquery(_SIMPLE, word)
    # Each full-text match as a set of ids, so that it is answered from its index rather
    # than computed for every ticket the identifiers' LIKE has to scan anyway.
    matched = aliased(Ticket)
    in_prose = select(matched.id).where(_prose_vector(matched).bool_op("@@")(query))
    in_messages = select(Message.ticket_id).where(_body_vector().bool_op("@@")(query))
    return or_(Ticket.id.in_(in_prose), *_identifiers(word), Ticket.id.in_(in_messages))
