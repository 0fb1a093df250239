"""What customers reach from the links in their messages, without signing in: their
channel preferences, and the unsubscribe link (RFC 8058 one-click too), honoured at once.

The link's secret is the customer's token; an unknown token gets a 404 that says nothing
about who exists.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notify.catalogue import load_catalogue
from services.notify.directory import PreferenceError, customer_by_token, set_preferences
from services.notify.models import PENDING, CustomerContact, Notification
from services.notify.planning import log
from shared.db import Database

public = Blueprint("public", __name__, template_folder="templates")

WORDS = {
    "pt-BR": {
        "title": "Suas mensagens",
        "channels": "Além do email, também quero receber por",
        "sms": "SMS",
        "chat": "Mensagem de chat",
        "phone": "Celular (formato internacional, ex. +5511912345678)",
        "chat_handle": "Número ou usuário do chat",
        "second": "Se uma mensagem não existir no meu idioma, prefiro",
        "none": "(inglês)",
        "opt_out": "Não quero relatórios, acompanhamentos nem lembretes opcionais",
        "save": "Salvar",
        "saved": "Pronto, suas escolhas valem a partir de agora.",
        "unsubscribe": "Parar de receber mensagens opcionais",
        "unsubscribed": "Feito: você não recebe mais relatórios, acompanhamentos nem lembretes opcionais. Faturas e respostas aos seus chamados continuam chegando.",
        "confirm": "Confirmar",
        "email_note": "Faturas e respostas aos seus chamados sempre chegam por email.",
    },
    "es": {
        "title": "Sus mensajes",
        "channels": "Además del email, también quiero recibir por",
        "sms": "SMS",
        "chat": "Mensaje de chat",
        "phone": "Móvil (formato internacional, p. ej. +34612345678)",
        "chat_handle": "Número o usuario de chat",
        "second": "Si un mensaje no existe en mi idioma, prefiero",
        "none": "(inglés)",
        "opt_out": "No quiero informes, seguimientos ni recordatorios opcionales",
        "save": "Guardar",
        "saved": "Listo, sus preferencias valen desde ahora.",
        "unsubscribe": "Dejar de recibir mensajes opcionales",
        "unsubscribed": "Hecho: ya no recibe informes, seguimientos ni recordatorios opcionales. Las facturas y las respuestas a sus tickets siguen llegando.",
        "confirm": "Confirmar",
        "email_note": "Las facturas y las respuestas a sus tickets siempre llegan por email.",
    },
    "en": {
        "title": "Your messages",
        "channels": "Besides email, I also want messages by",
        "sms": "SMS",
        "chat": "Chat message",
        "phone": "Mobile (international form, e.g. +447700900123)",
        "chat_handle": "Chat number or handle",
        "second": "When a message does not exist in my language, I prefer",
        "none": "(English)",
        "opt_out": "No reports, follow-ups or optional reminders",
        "save": "Save",
        "saved": "Done: your choices apply from now on.",
        "unsubscribe": "Stop optional messages",
        "unsubscribed": "Done: no more reports, follow-ups or optional reminders. Invoices and replies to your tickets still arrive.",
        "confirm": "Confirm",
        "email_note": "Invoices and replies to your tickets always come by email.",
    },
}


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


def _customer(session: Session, token: str) -> CustomerContact:
    contact = customer_by_token(session, token)
    if contact is None:
        abort(404, description="This link is not valid (any more).")
    return contact


def _page(contact: CustomerContact, **extra: Any) -> Any:
    language = contact.language if contact.language in WORDS else "en"
    return render_template(
        "notify/preferences.html",
        contact=contact,
        words=WORDS[language],
        lang=language,
        **extra,
    )


@public.get("/preferences/<token>")
def preferences(token: str) -> Any:
    with _database().transaction() as session:
        return _page(_customer(session, token))


@public.post("/preferences/<token>")
def save_preferences(token: str) -> Any:
    form = request.form
    with _database().transaction() as session:
        contact = _customer(session, token)
        try:
            set_preferences(
                contact,
                channels=form.getlist("channels"),
                phone=form.get("phone"),
                chat_handle=form.get("chat_handle"),
                opted_out=form.get("opted_out") == "yes",
                second_language=form.get("second_language") or None,
            )
        except PreferenceError as refused:
            # set_preferences checks everything before it changes anything.
            return _page(contact, error=str(refused)), 422
        if contact.opted_out:
            cancel_optional(session, contact.customer_id, "the customer opted out")
        return _page(contact, saved=True)


@public.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> Any:
    with _database().transaction() as session:
        return _page(_customer(session, token), confirm_unsubscribe=True)


@public.post("/unsubscribe/<token>")
def unsubscribe(token: str) -> Any:
    """The confirmation form and mail clients' one-click POST (``List-Unsubscribe=One-Click``)
    both land here; either way it holds at once."""
    with _database().transaction() as session:
        contact = _customer(session, token)
        contact.opted_out = True
        cancel_optional(session, contact.customer_id, "the customer unsubscribed")
        return _page(contact, unsubscribed=True)


def cancel_optional(session: Session, customer_id: int, reason: str) -> None:
    """Messages the customer no longer wants that have not gone yet."""
    optional = [kind.kind for kind in load_catalogue().kinds() if not kind.transactional]
    for notification in session.execute(
        select(Notification).where(
            Notification.customer_id == customer_id,
            Notification.kind.in_(optional),
            Notification.status.in_(PENDING),
        )
    ).scalars():
        notification.status = "skipped"
        notification.reason = reason
        log(session, notification, "skipped", reason)
