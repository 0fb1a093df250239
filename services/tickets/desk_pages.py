"""The staff desk's pages: the queue with its SLA clocks, a ticket with the customer's
context and the reply checker's findings as you write, the review queue, and opening a
ticket for a phone call. Every action here also exists in the REST API."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from services.tickets import (
    attachments,
    billing_requests,
    canned,
    clocks,
    lifecycle,
    presence,
    replying,
    resolution,
    review,
    search,
)
from services.tickets.lifecycle import EMERGENCIES, NewTicket, TicketError
from services.tickets.models import (
    OPEN_STATUSES,
    STATUSES,
    Attachment,
    CareTask,
    CustomerNote,
    CustomerReplica,
    DeliveryReplica,
    HistoryEntry,
    Message,
    Rating,
    StaffMember,
    SuggestedScript,
    Ticket,
)
from services.tickets.staff import acting_member
from services.tickets.staff_words import choose_language, say, speak_on
from shared import clock
from shared.config import Settings
from shared.db import Database
from shared.events.contracts import DEPARTMENTS, TICKET_PRIORITIES
from shared.web import roles_required

desk = Blueprint("desk_pages", __name__, url_prefix="/desk", template_folder="templates")
speak_on(desk)
desk.add_url_rule("/language/<code>", view_func=choose_language)
PAGE_SIZE = 50
COUNT_AHEAD = 20
"""How many pages past the one shown the resolved view counts; beyond, it says "more
than"."""
VIEWS = ("open", "mine", "unassigned", "waiting", "emergency", "resolved", "all")
STAFF_ROLES = ("agent", "billing", "trainee")


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


def _member(session: Session) -> StaffMember:
    return acting_member(session, say("said.inactive"))


def survey_url(ticket: Ticket) -> str:
    settings: Settings = current_app.extensions["cortesia.settings"]
    return f"{settings.public_url}/portal/tickets/{ticket.id}#rate"


# -- the queue ---------------------------------------------------------------------------


def queue_conditions(
    view: str, staff_id: int, department: str | None, priority: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if view == "open":
        conditions.append(Ticket.status.in_(OPEN_STATUSES))
    elif view == "mine":
        conditions += [Ticket.status.in_(OPEN_STATUSES), Ticket.assignee_id == staff_id]
    elif view == "unassigned":
        conditions += [Ticket.status.in_(OPEN_STATUSES), Ticket.assignee_id.is_(None)]
    elif view == "waiting":
        conditions.append(Ticket.status == "waiting")
    elif view == "emergency":
        conditions += [Ticket.status.in_(OPEN_STATUSES), Ticket.emergency.is_(True)]
    elif view == "resolved":
        conditions.append(Ticket.status.in_(("resolved", "closed")))
    if department:
        conditions.append(Ticket.department == department)
    if priority:
        conditions.append(Ticket.priority == priority)
    return conditions


def _queue_page(
    session: Session,
    conditions: list[ColumnElement[bool]],
    order: search.Order,
    page: int,
    counted_to: int | None,
) -> tuple[list[Ticket], int]:
    """A page of the view and its count: an index answers each of the two on its own.

    With ``counted_to`` the count stops one past it (the page says "more than"): the
    resolved view, all of the desk's history, is not counted to its last ticket for
    each page shown. The views of work still to do are counted exactly; they are small,
    and a limit there would only lead the planner to scan for rows that are not there.
    """
    if counted_to is None:
        counted = select(func.count()).select_from(Ticket).where(*conditions)
    else:
        matching = select(Ticket.id).where(*conditions).limit(counted_to + 1).subquery()
        counted = select(func.count()).select_from(matching)
    total = session.execute(counted).scalar_one()
    tickets = session.execute(
        select(Ticket)
        .where(*conditions)
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).scalars()
    return list(tickets), int(total)


@desk.get("/")
@roles_required("agent", "billing", "trainee")
def queue() -> Any:
    view = request.args.get("view", "open")
    if view not in VIEWS:
        abort(400, description=say("said.one_of", field="view", values=", ".join(VIEWS)))
    department = request.args.get("department") or None
    if department is not None and department not in DEPARTMENTS:
        abort(
            400, description=say("said.one_of", field="department", values=", ".join(DEPARTMENTS))
        )
    priority = request.args.get("priority") or None
    if priority is not None and priority not in TICKET_PRIORITIES:
        abort(
            400,
            description=say("said.one_of", field="priority", values=", ".join(TICKET_PRIORITIES)),
        )
    text = request.args.get("q", "")
    with _database().transaction() as session:
        member = _member(session)
        conditions = queue_conditions(view, member.id, department, priority)
        page = max(1, request.args.get("page", 1, type=int))
        # Emergencies first, then whatever is due soonest: kept current on every change,
        # so the database sorts and only one page's clocks are worked out.
        order: search.Order = (
            [Ticket.updated_at.desc()]
            if view == "resolved"
            else [
                Ticket.emergency.desc(),
                Ticket.next_due_at.asc().nulls_last(),
                Ticket.created_at.asc(),
            ]
        )
        counted_to = (page + COUNT_AHEAD) * PAGE_SIZE if view == "resolved" else None
        searched = search.text_conditions(session, text)
        if searched:
            # The matching is the costly part: done once for the page and its count.
            tickets, total = search.page_with_total(session, conditions + searched, order, page)
        else:
            tickets, total = _queue_page(session, conditions, order, page, counted_to)
        states = clocks.standings(session, tickets)
        names = dict(session.execute(select(StaffMember.id, StaffMember.name)).all())
        held = session.execute(
            select(func.count()).select_from(Message).where(Message.state == "held")
        ).scalar_one()
        return render_template(
            "tickets/desk/queue.html",
            tickets=tickets,
            total=total,
            counted_to=counted_to,
            page=page,
            page_size=PAGE_SIZE,
            states=states,
            names=names,
            view=view,
            views=VIEWS,
            department=department,
            priority=priority,
            text=text,
            departments=DEPARTMENTS,
            priorities=TICKET_PRIORITIES,
            held=held,
            staff=member,
        )


# -- one ticket ---------------------------------------------------------------------------


def _ticket(session: Session, ticket_id: int) -> Ticket:
    try:
        return lifecycle.get_ticket(session, ticket_id)
    except lifecycle.NotFound as missing:
        abort(404, description=str(missing))


def ticket_context(
    session: Session, ticket: Ticket, member: StaffMember, everyone: list[StaffMember]
) -> dict[str, Any]:
    """What the ticket page shows; ``everyone`` is the staff, read once for the assignee
    list and the messages' authors. Each round trip to the database costs about as much
    as the rows it brings, so lookups by the same key share one."""
    messages = list(
        session.execute(
            select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
        ).scalars()
    )
    script, rating = session.execute(
        select(SuggestedScript, Rating)
        .select_from(Ticket)
        .outerjoin(SuggestedScript, SuggestedScript.ticket_id == Ticket.id)
        .outerjoin(Rating, Rating.ticket_id == Ticket.id)
        .where(Ticket.id == ticket.id)
    ).one()
    return {
        "ticket": ticket,
        "messages": messages,
        "findings": {m.id: json.loads(m.findings) for m in messages if m.findings},
        "history": list(
            session.execute(
                select(HistoryEntry)
                .where(HistoryEntry.ticket_id == ticket.id)
                .order_by(HistoryEntry.id)
            ).scalars()
        ),
        **_customer_context(session, ticket),
        "attachments": attachments.by_message(session, ticket.id),
        "script": script,
        "canned": [
            (reply.title, canned.fill(reply, ticket, member))
            for reply in canned.for_language(session, ticket.language)
        ],
        "rating": rating,
        "sla": clocks.states(session, [ticket])[ticket.id],
        "staff": member,
        "team": sorted(
            (someone for someone in everyone if someone.active), key=lambda someone: someone.name
        ),
        "others": presence.others(session, ticket.id, member.id),
        "statuses": [s for s in STATUSES if s != "resolved"],
        "priorities": TICKET_PRIORITIES,
        "names": {someone.id: someone.name for someone in everyone},
        "today": clock.now().date(),
    }


def _customer_context(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The customer beside the ticket: billing's word on them, their other open tickets,
    the latest notices sent to them, their open care tasks and the desk's notes."""
    if not ticket.customer_id:
        return {"customer": None, "open_elsewhere": 0, "deliveries": [], "care_tasks": [],
                "notes": []}  # fmt: skip
    open_elsewhere = (
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.customer_id == ticket.customer_id,
            Ticket.id != ticket.id,
            Ticket.status.in_(OPEN_STATUSES),
        )
        .scalar_subquery()
    )
    found = session.execute(
        select(CustomerReplica, open_elsewhere).where(
            CustomerReplica.customer_id == ticket.customer_id
        )
    ).first()
    customer, open_count = found if found is not None else (None, 0)
    return {
        "customer": customer,
        "open_elsewhere": open_count,
        "deliveries": list(
            session.execute(
                select(DeliveryReplica)
                .where(DeliveryReplica.customer_id == ticket.customer_id)
                .order_by(DeliveryReplica.at.desc())
                .limit(10)
            ).scalars()
        ),
        "care_tasks": list(
            session.execute(
                select(CareTask)
                .where(CareTask.customer_id == ticket.customer_id, CareTask.done_at.is_(None))
                .order_by(CareTask.due_on)
            ).scalars()
        ),
        "notes": list(
            session.execute(
                select(CustomerNote)
                .where(CustomerNote.customer_id == ticket.customer_id)
                .order_by(CustomerNote.at.desc())
                .limit(10)
            ).scalars()
        ),
    }


@desk.get("/attachments/<int:attachment_id>")
@roles_required("agent", "billing", "trainee")
def attachment(attachment_id: int) -> Any:
    with _database().transaction() as session:
        kept = session.get(Attachment, attachment_id)
        if kept is None:
            abort(404, description=say("said.no_attachment", number=attachment_id))
        return attachments.download(kept)


def _ticket_page(ticket_id: int, status: int = 200, **extra: Any) -> Any:
    with _database().transaction() as session:
        # The whole staff first: the acting member's row is then found in the session
        # instead of being asked for again.
        everyone = list(session.execute(select(StaffMember)).scalars())
        member = _member(session)
        ticket = _ticket(session, ticket_id)
        presence.touch(session, ticket.id, member.id, writing=False)
        context = ticket_context(session, ticket, member, everyone)
        context.update(extra)
        return render_template("tickets/desk/ticket.html", **context), status


@desk.get("/tickets/<int:ticket_id>")
@roles_required("agent", "billing", "trainee")
def ticket_page(ticket_id: int) -> Any:
    return _ticket_page(ticket_id)


@desk.post("/tickets/<int:ticket_id>/check")
@roles_required("agent", "billing", "trainee")
def check(ticket_id: int) -> Any:
    """The live checker: the draft's findings as JSON, while the reply is written."""
    text = request.form.get("body", "")
    with _database().transaction() as session:
        member = _member(session)
        ticket = _ticket(session, ticket_id)
        presence.touch(session, ticket.id, member.id, writing=bool(text.strip()))
        if not text.strip():
            return jsonify(
                findings=[], blocking=False, others=presence.others(session, ticket.id, member.id)
            )
        findings = replying.check(
            session,
            ticket,
            text[: lifecycle.MAX_BODY],
            beyond_hosting=request.form.get("beyond_hosting") == "yes",
        )
        return jsonify(
            findings=findings,
            blocking=any(f["severity"] == "block" for f in findings),
            others=presence.others(session, ticket.id, member.id),
        )


@desk.post("/tickets/<int:ticket_id>/reply")
@roles_required("agent", "billing", "trainee")
def post_reply(ticket_id: int) -> Any:
    form = request.form
    try:
        with _database().transaction() as session:
            member = _member(session)
            ticket = _ticket(session, ticket_id)
            outcome = replying.reply(
                session,
                ticket,
                member,
                form.get("body", ""),
                override_note=form.get("override_note"),
                beyond_hosting=form.get("beyond_hosting") == "yes",
                then_status=form.get("then_status", "waiting"),
            )
            presence.touch(session, ticket.id, member.id, writing=False)
    except TicketError as refused:
        return _ticket_page(ticket_id, 422, error=str(refused), draft=form.get("body", ""))
    if outcome.outcome == "stopped":
        return _ticket_page(
            ticket_id,
            422,
            error=say("said.not_sent"),
            draft=form.get("body", ""),
            draft_findings=outcome.findings,
        )
    flash(
        say(
            {"sent": "said.sent", "overridden": "said.overridden", "held": "said.held"}[
                outcome.outcome
            ]
        )
    )
    return redirect(url_for("desk_pages.ticket_page", ticket_id=ticket_id), 303)


def _simple_action(ticket_id: int, action: Any, done: str) -> Any:
    try:
        with _database().transaction() as session:
            member = _member(session)
            ticket = _ticket(session, ticket_id)
            action(session, ticket, member)
    except TicketError as refused:
        # What was typed comes back with the refusal: nobody writes it twice.
        return _ticket_page(ticket_id, 422, error=str(refused), submitted=request.form)
    flash(done)
    return redirect(url_for("desk_pages.ticket_page", ticket_id=ticket_id), 303)


@desk.post("/tickets/<int:ticket_id>/note")
@roles_required("agent", "billing", "trainee")
def post_note(ticket_id: int) -> Any:
    body = request.form.get("body", "")
    return _simple_action(
        ticket_id, lambda s, t, m: lifecycle.add_note(s, t, m, body), say("said.note_added")
    )


@desk.post("/tickets/<int:ticket_id>/update")
@roles_required("agent", "billing", "trainee")
def update(ticket_id: int) -> Any:
    form = request.form

    def apply(session: Session, ticket: Ticket, member: StaffMember) -> None:
        if form.get("status"):
            lifecycle.set_status(session, ticket, form["status"], member.email)
        if form.get("priority"):
            lifecycle.set_priority(session, ticket, form["priority"], member.email)
        if "assignee" in form:
            raw = form["assignee"]
            if raw and not raw.isdigit():
                raise TicketError(say("said.choose_assignee"))
            lifecycle.assign(session, ticket, int(raw) if raw else None, member.email)
        if "tags" in form:
            lifecycle.set_tags(session, ticket, form["tags"], member.email)

    return _simple_action(ticket_id, apply, say("said.ticket_updated"))


@desk.post("/tickets/<int:ticket_id>/merge")
@roles_required("agent", "billing", "trainee")
def merge(ticket_id: int) -> Any:
    raw = request.form.get("into", "").strip().lstrip("#")
    if not raw.isdigit():
        return _ticket_page(ticket_id, 422, error=say("said.merge_number"))

    try:
        with _database().transaction() as session:
            member = _member(session)
            target = _ticket(session, int(raw))
            lifecycle.merge(session, _ticket(session, ticket_id), target, member.email)
    except TicketError as refused:
        return _ticket_page(ticket_id, 422, error=str(refused))
    flash(say("said.merged", number=ticket_id))
    return redirect(url_for("desk_pages.ticket_page", ticket_id=int(raw)), 303)


@desk.post("/tickets/<int:ticket_id>/resolve")
@roles_required("agent", "billing", "trainee")
def resolve(ticket_id: int) -> Any:
    form = request.form

    def apply(session: Session, ticket: Ticket, member: StaffMember) -> None:
        resolution.resolve(
            session,
            ticket,
            member,
            cause=form.get("cause", ""),
            fix=form.get("fix", ""),
            prevention=form.get("prevention", ""),
            survey_url=survey_url(ticket),
            sla_outcome=clocks.resolution_outcome(session),
        )

    return _simple_action(ticket_id, apply, say("said.resolved"))


@desk.post("/tickets/<int:ticket_id>/reactivation")
@roles_required("agent", "billing")
def reactivation(ticket_id: int) -> Any:
    raw = request.form.get("pay_by", "")
    try:
        pay_by = date.fromisoformat(raw)
    except ValueError:
        return _ticket_page(ticket_id, 422, error=say("said.pay_by"))
    note = request.form.get("note")
    return _simple_action(
        ticket_id,
        lambda s, t, m: billing_requests.request_reactivation(s, t, m, pay_by, note),
        say("said.reactivation_asked"),
    )


@desk.post("/tickets/<int:ticket_id>/cancellation")
@roles_required("agent", "billing")
def cancellation(ticket_id: int) -> Any:
    form = request.form
    return _simple_action(
        ticket_id,
        lambda s, t, m: billing_requests.record_cancellation(
            s,
            t,
            m,
            reason=form.get("reason", ""),
            offer_made=form.get("offer_made"),
            outcome=form.get("outcome", ""),
            at_period_end=form.get("when") != "now",
        ),
        say("said.recorded"),
    )


# -- opening a ticket for a call --------------------------------------------------------------


@desk.route("/new", methods=["GET", "POST"])
@roles_required("agent", "billing", "trainee")
def new_ticket() -> Any:
    form = request.form
    error = None
    if request.method == "POST":
        raw_customer = form.get("customer_id", "").strip()
        try:
            if raw_customer and not raw_customer.isdigit():
                raise TicketError(say("said.choose_customer_or_none"))
            with _database().transaction() as session:
                member = _member(session)
                ticket = lifecycle.open_ticket(
                    session,
                    NewTicket(
                        subject=form.get("subject", ""),
                        body=form.get("body", ""),
                        requester_email=form.get("requester_email", ""),
                        requester_name=form.get("requester_name", ""),
                        customer_id=int(raw_customer) if raw_customer else None,
                        department=form.get("department", "support"),
                        priority=form.get("priority", "normal"),
                        emergency_kind=form.get("emergency") or None,
                        channel=form.get("channel", "phone"),
                    ),
                    member.email,
                )
                ticket_id = ticket.id
        except TicketError as refused:
            error = str(refused)
        else:
            flash(say("said.ticket_opened"))
            return redirect(url_for("desk_pages.ticket_page", ticket_id=ticket_id), 303)
    with _database().transaction() as session:
        customers = list(
            session.execute(select(CustomerReplica).order_by(CustomerReplica.name)).scalars()
        )
        return render_template(
            "tickets/desk/new.html",
            form=form,
            error=error,
            customers=customers,
            departments=DEPARTMENTS,
            priorities=TICKET_PRIORITIES,
            emergencies=EMERGENCIES,
        ), (422 if error else 200)


# -- reviews ------------------------------------------------------------------------------------


@desk.get("/reviews")
@roles_required()
def reviews() -> Any:
    with _database().transaction() as session:
        waiting = review.waiting(session)
        return render_template(
            "tickets/desk/reviews.html",
            waiting=waiting,
            findings={m.id: json.loads(m.findings or "[]") for m, _, _ in waiting},
        )


@desk.post("/reviews/<int:message_id>")
@roles_required()
def decide_review(message_id: int) -> Any:
    verdict = request.form.get("verdict")
    try:
        with _database().transaction() as session:
            member = _member(session)
            if verdict == "approve":
                review.approve(session, message_id, member, request.form.get("body"))
                flash(say("said.approved"))
            elif verdict == "return":
                review.return_to_author(
                    session, message_id, member, request.form.get("comment", "")
                )
                flash(say("said.returned"))
            else:
                abort(400, description=say("said.approve_or_return"))
    except lifecycle.NotFound as missing:
        abort(404, description=str(missing))
    except TicketError as refused:
        flash(str(refused))
    return redirect(url_for("desk_pages.reviews"), 303)
