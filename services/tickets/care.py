"""Care of managed customers, between tickets:

- P-CADENCE: an email every two or three days (with no news, ask how their business is
  going) and a call each week, as tasks the desk keeps due;
- P-REFERRAL: a customer who recommends us is thanked, and the person recommended is
  followed up;
- P-LATE: someone running late for an appointment says so; the customer is told at once
  (``tickets.running_late.v1``) and gets a task at the top of the day.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.tickets.clocks import company_date
from services.tickets.lifecycle import PRODUCER, TicketError, now
from services.tickets.models import CareTask, CustomerReplica, StaffMember
from shared.bus.outbox import record_event

EMAIL_EVERY = timedelta(days=2)
CALL_EVERY = timedelta(days=7)
REFERRAL_FOLLOW_UP = timedelta(days=3)
KINDS = ("email", "call", "referral", "late")


def _last_done(session: Session, customer_id: int, kind: str) -> date | None:
    done = session.execute(
        select(func.max(CareTask.done_at)).where(
            CareTask.customer_id == customer_id, CareTask.kind == kind
        )
    ).scalar()
    return company_date(done) if done else None


def _open(session: Session, customer_id: int, kind: str) -> bool:
    return (
        session.execute(
            select(CareTask.id).where(
                CareTask.customer_id == customer_id,
                CareTask.kind == kind,
                CareTask.done_at.is_(None),
            )
        ).first()
        is not None
    )


def cadence_rounds(session: Session, today: date) -> int:
    """Keep each managed customer's next email and next call due."""
    created = 0
    for customer in session.execute(
        select(CustomerReplica).where(
            CustomerReplica.managed.is_(True), CustomerReplica.billing_status != "cancelled"
        )
    ).scalars():
        for kind, every, title in (
            ("email", EMAIL_EVERY, f"Write to {customer.name}: news, or ask how business is going"),
            ("call", CALL_EVERY, f"Call {customer.name} (weekly)"),
        ):
            if _open(session, customer.customer_id, kind):
                continue
            last = _last_done(session, customer.customer_id, kind)
            due = today if last is None else max(today, last + every)
            session.add(
                CareTask(customer_id=customer.customer_id, kind=kind, title=title, due_on=due)
            )
            created += 1
    return created


def record_referral(
    session: Session, customer_id: int, referred: str, staff: StaffMember
) -> CareTask:
    customer = session.get(CustomerReplica, customer_id)
    if customer is None:
        raise TicketError(f"No customer {customer_id}.")
    referred = referred.strip()
    if not referred:
        raise TicketError("Who was recommended to us?")
    task = CareTask(
        customer_id=customer_id,
        kind="referral",
        title=f"Thank {customer.name} for recommending {referred}, and follow {referred} up",
        due_on=company_date() + REFERRAL_FOLLOW_UP,
        assignee_id=staff.id,
    )
    session.add(task)
    session.flush()
    return task


def running_late(session: Session, customer_id: int, minutes: int, staff: StaffMember) -> CareTask:
    customer = session.get(CustomerReplica, customer_id)
    if customer is None:
        raise TicketError(f"No customer {customer_id}.")
    if not 1 <= minutes <= 240:
        raise TicketError("Say how many minutes late, from 1 to 240.")
    record_event(
        session,
        PRODUCER,
        "tickets.running_late.v1",
        {
            "customer_id": customer.customer_id,
            "customer_name": customer.name,
            "email": customer.email,
            "language": customer.language,
            "timezone": customer.timezone,
            "minutes": minutes,
            "staff_name": staff.name,
        },
    )
    task = CareTask(
        customer_id=customer_id,
        kind="late",
        title=f"{customer.name} waited {minutes} min for {staff.name}: see them first",
        due_on=company_date(),
        assignee_id=staff.id,
    )
    session.add(task)
    session.flush()
    return task


def complete(session: Session, task_id: int, staff: StaffMember, note: str | None) -> CareTask:
    task = session.get(CareTask, task_id)
    if task is None:
        raise TicketError(f"No task {task_id}.")
    if task.done_at is not None:
        raise TicketError("This task is already done.")
    task.done_at = now()
    task.done_by = staff.id
    task.note = (note or "").strip() or None
    return task


def my_day(session: Session, staff: StaffMember, today: date) -> list[CareTask]:
    """Tasks due by today that are this person's or nobody's; late-running first."""
    tasks = session.execute(
        select(CareTask)
        .where(
            CareTask.done_at.is_(None),
            CareTask.due_on <= today,
            (CareTask.assignee_id == staff.id) | CareTask.assignee_id.is_(None),
        )
        .order_by(CareTask.due_on)
    ).scalars()
    return sorted(tasks, key=lambda task: (task.kind != "late", task.due_on))
