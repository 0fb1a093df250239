"""Training keeps replicas of the staff directory (from the desk) and of the customer
directory (from billing), fed by their events; a staff member added as a trainee (or
made one) is enrolled in the onboarding path."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.training.models import CustomerReplica, StaffMemberReplica
from services.training.onboarding import enrol
from shared.bus.subscriber import ReceivedEvent, Subscriber

staff_directory = Subscriber("training.staff_directory")
customer_directory = Subscriber("training.customer_directory")


@staff_directory.handles("tickets.staff_added.v1")
def remember_staff_member(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    session.merge(
        StaffMemberReplica(
            staff_id=data["staff_id"],
            name=data["name"],
            email=data["email"],
            role=data["role"],
            active=True,
        )
    )
    if data["role"] == "trainee":
        enrol(session, data["staff_id"])


@staff_directory.handles("tickets.staff_role_changed.v1")
def update_role(session: Session, event: ReceivedEvent) -> None:
    member = session.get(StaffMemberReplica, event.data["staff_id"])
    if member is not None:
        member.role = event.data["new_role"]
    if event.data["new_role"] == "trainee":
        enrol(session, event.data["staff_id"])


@staff_directory.handles("tickets.staff_removed.v1")
def forget_staff_member(session: Session, event: ReceivedEvent) -> None:
    member = session.get(StaffMemberReplica, event.data["staff_id"])
    if member is not None:
        member.active = False


@customer_directory.handles("billing.customer_created.v1")
@customer_directory.handles("billing.customer_updated.v1")
def remember_customer(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    customer = session.get(CustomerReplica, data["customer_id"])
    if customer is None:
        customer = CustomerReplica(customer_id=data["customer_id"], suspended=False)
        session.add(customer)
    customer.name = data["customer_name"]
    customer.email = data["email"]
    customer.language = data["language"]
