"""Inbound email over real SMTP: a new message opens a ticket, a reply carrying the ticket's
reference joins its conversation, attachments are kept (an oversized one left out and
said so), mail for other domains is refused."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlalchemy import select

from services.tickets import inbound
from services.tickets.inbound import InboundMailServer
from services.tickets.models import Attachment, Message, StaffMember, Ticket
from shared.db import Database
from shared.testing.servers import free_port
from tests.tickets.conftest import announced
from tests.tickets.test_desk_pages import HTML, session_of


def email(subject: str, body: str, to: str = "suporte@cortesia.example") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Carla Dias <carla@loja.example>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def test_emails_open_tickets_and_replies_thread_back(
    app: Flask, database: Database, staff: dict[str, StaffMember], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound, "MAX_ATTACHMENT", 1024)
    port = free_port()
    server = InboundMailServer(database, "127.0.0.1", port, "cortesia.example")
    server.start()
    try:
        first = email("Site lento", "Meu site está muito lento desde ontem.")
        first.add_attachment(
            b"log line\n" * 10, maintype="text", subtype="plain", filename="erro.log"
        )
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(first)
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.send_message(email("x", "y", to="someone@elsewhere.example"))
        with database.transaction() as session:
            ticket = session.execute(select(Ticket)).scalar_one()
            reference, ticket_id = ticket.reference, ticket.id
            assert (ticket.channel, ticket.requester_email, ticket.requester_name) == (
                "email",
                "carla@loja.example",
                "Carla Dias",
            )
        (opened,) = announced(database, "tickets.ticket_opened.v1")
        assert opened["subject"] == "Site lento"

        reply = email(
            f"Re: [{reference}] Site lento",
            "Ainda lento hoje.\n\nEm 2 de dez., Cortesia escreveu:\n> Olá Carla\n",
            to=f"suporte+{reference}@cortesia.example",
        )
        reply.add_attachment(b"x" * 5000, maintype="image", subtype="png", filename="tela.png")
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(reply)
    finally:
        server.stop()
    with database.transaction() as session:
        assert session.execute(select(Ticket)).scalars().all()[0].id == ticket_id, "one ticket"
        bodies = [
            m.body
            for m in session.execute(
                select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)
            ).scalars()
        ]
        assert bodies[1] == "Ainda lento hoje.", "the quoted conversation is left out"
        assert "tela.png" in bodies[2] and "Left out" in bodies[2]
        (kept,) = session.execute(select(Attachment)).scalars()
        assert kept.filename == "erro.log" and kept.size == 90

    agent = session_of(app, staff["agent"])
    page = agent.get(f"/desk/tickets/{ticket_id}", headers=HTML)
    assert "erro.log" in page.text
    download = agent.get(f"/desk/attachments/{kept.id}")
    assert download.status_code == 200 and download.data == b"log line\n" * 10
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert agent.get("/desk/attachments/999").status_code == 404


def test_a_message_without_a_sender_is_refused(database: Database) -> None:
    with database.transaction() as session, pytest.raises(inbound.TicketError, match="sender"):
        inbound.receive(session, b"Subject: hi\r\n\r\nbody\r\n")
