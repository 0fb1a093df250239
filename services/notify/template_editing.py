"""The owner's edits of message templates: a live preview on the kind's sample data, and a
save that is refused while the text does not render (nothing broken reaches a customer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.notify.catalogue import LANGUAGES, MessageKind, TemplateText, load_catalogue
from services.notify.config import NotifyConfig
from services.notify.models import Notification, TemplateOverride
from services.notify.rendering import Rendered, RenderFailure, render, sample_context
from shared import clock


class EditError(ValueError):
    """An edit that cannot be saved or previewed; the message says why."""


@dataclass(frozen=True)
class Draft:
    subject: str | None
    text: str
    html: str | None

    def as_text(self) -> TemplateText:
        return TemplateText(self.subject, self.text, self.html)


def _kind(name: str, channel: str, language: str) -> MessageKind:
    kind = load_catalogue().kind(name)
    if channel not in kind.channels:
        raise EditError(f"{name} has no {channel} message.")
    if language not in LANGUAGES:
        raise EditError(f"Languages are {', '.join(LANGUAGES)}.")
    return kind


def current(session: Session, name: str, channel: str, language: str) -> tuple[Draft, bool]:
    """The text in force and whether it is the owner's edit (else the file's, if any)."""
    _kind(name, channel, language)
    edit = session.get(TemplateOverride, (name, channel, language))
    if edit is not None:
        return Draft(edit.subject, edit.text, edit.html), True
    base = load_catalogue().kind(name).texts.get((channel, language))
    if base is None:
        return Draft("" if channel == "email" else None, "", None), False
    return Draft(base.subject, base.text, base.html), False


def preview(config: NotifyConfig, name: str, channel: str, language: str, draft: Draft) -> Rendered:
    """``draft`` rendered on the kind's sample, as a recipient in ``language`` reads it."""
    kind = _kind(name, channel, language)
    if channel == "email" and not (draft.subject or "").strip():
        raise EditError("An email needs a subject.")
    if not draft.text.strip():
        raise EditError("Write the message's text.")
    context = sample_context(kind, company=config.company, recipient_language=language)
    try:
        return render(
            kind, channel, [language], context, {(name, channel, language): draft.as_text()}
        )
    except RenderFailure as failure:
        raise EditError(failure.reason) from None


def save(
    session: Session,
    config: NotifyConfig,
    name: str,
    channel: str,
    language: str,
    draft: Draft,
    by: str,
) -> Rendered:
    rendered = preview(config, name, channel, language, draft)
    session.merge(
        TemplateOverride(
            kind=name,
            channel=channel,
            language=language,
            subject=draft.subject if channel == "email" else None,
            text=draft.text,
            html=(draft.html or None) if channel == "email" else None,
            updated_by=by,
            updated_at=clock.now(),
        )
    )
    return rendered


def revert(session: Session, name: str, channel: str, language: str) -> None:
    _kind(name, channel, language)
    edit = session.get(TemplateOverride, (name, channel, language))
    if edit is not None:
        session.delete(edit)


def edited(session: Session) -> set[tuple[str, str, str]]:
    return {
        (row.kind, row.channel, row.language)
        for row in session.execute(select(TemplateOverride)).scalars()
    }


def missing_translations(session: Session) -> Mapping[tuple[str, str, str], int]:
    """How many messages were written in another language than the recipient's, by
    (kind, channel, wanted language): the translations to add."""
    rows = session.execute(
        select(Notification.kind, Notification.channel, Notification.fell_back_from, func.count())
        .where(Notification.fell_back_from.is_not(None))
        .group_by(Notification.kind, Notification.channel, Notification.fell_back_from)
    ).all()
    return {(kind, channel, str(wanted)): count for kind, channel, wanted, count in rows}
