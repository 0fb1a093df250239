"""Training keeps its own replica of the staff directory, fed by the desk's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.training.models import StaffMemberReplica
from shared.bus.subscriber import ReceivedEvent, Subscriber

staff_directory = Subscriber("training.staff_directory")


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


@staff_directory.handles("tickets.staff_role_changed.v1")
def update_role(session: Session, event: ReceivedEvent) -> None:
    member = session.get(StaffMemberReplica, event.data["staff_id"])
    if member is not None:
        member.role = event.data["new_role"]


@staff_directory.handles("tickets.staff_removed.v1")
def forget_staff_member(session: Session, event: ReceivedEvent) -> None:
    member = session.get(StaffMemberReplica, event.data["staff_id"])
    if member is not None:
        member.active = False
