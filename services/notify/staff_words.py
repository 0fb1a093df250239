"""Notify's staff pages in English and Brazilian Portuguese.

Which one a page speaks is ``shared.web.staff_language``'s to say (the desk's switcher,
then the browser), and so is how the words are used (``StaffWords``). Templates read
``t('key')``, stored values ``name_of('status', row.status)``, and a message kind's
description ``kind.description_in(lang)``. What the service layer says (a delivery's
steps, the template checker's findings) stays as it was written; only the pages' own
words and the views' own messages are here.
"""

from __future__ import annotations

from flask import Blueprint

from shared.web.staff_language import StaffWords, page_language, role_names

WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "pt-BR": ("Seg", "Ter", "Qua", "Qui", "Sex", "Sáb", "Dom"),
}
"""How duty hours name the days, Monday first, in each language."""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "nav": "Notifications",
        "nav.log": "Delivery log",
        "nav.templates": "Templates",
        "nav.duty": "Duty hours",
        "nav.mailbox": "Local mailbox",
        # the delivery log
        "log.title": "Delivery log",
        "log.search_for": "Address, name, subject or event id",
        "status": "Status",
        "any": "any",
        "message": "Message",
        "since": "From",
        "until": "To",
        "search": "Search",
        "log.count.one": "1 message",
        "log.count.many": "{count} messages",
        "log.newest": ", newest {shown} shown",
        "to": "To",
        "channel": "Channel",
        "when": "When",
        "urgent": "urgent",
        "log.sent": "sent {when}",
        "log.held": "held until {when}",
        "log.next": "next {when}",
        "log.older": "Older messages",
        "log.none": "No message matches.",
        # one notification
        "notification.title": "Notification {id}",
        "notification.heading": "{kind} to {who}",
        "address": "Address",
        "language": "Language",
        "wanted": "(wanted {language})",
        "attempts": "Attempts",
        "from_event": "From event {type} {id}",
        "send_again": "Send again",
        "steps": "Steps",
        "as_seen": "The email as the customer sees it",
        "plain_text": "Plain text",
        # templates
        "templates.title": "Message templates",
        "templates.intro": (
            "Every message notify writes, per channel and language. Open one to read it on "
            "sample data; the owner edits them. (edited) marks the owner's text."
        ),
        "templates.missing": "Missing translations",
        "templates.written_elsewhere.one": "1 message written in another language",
        "templates.written_elsewhere.many": "{count} messages written in another language",
        "audience.customer": "To customers",
        "audience.staff": "Staff alerts",
        "texts": "Texts",
        "optional": "optional",
        "edited": "(edited)",
        "template.is_edit": "This is the owner's edit.",
        "template.is_catalogue": "This is the catalogue's text.",
        "template.other_languages": "Other languages:",
        "subject": "Subject",
        "text": "Text",
        "html_body": "HTML body (optional; the layout adds the header and footer)",
        "save": "Save",
        "template.revert": "Back to the catalogue's text",
        "template.preview": "Preview on sample data",
        "template.preview_frame": "Preview of the email",
        # duty hours
        "duty.title": "Duty hours",
        "duty.intro": (
            "Alerts about new tickets go to whoever is on duty; an emergency reaches them "
            "at once, by SMS or chat first when they have one. Someone without hours here "
            "is on duty during business hours. Times are the company's."
        ),
        "duty.slots": "On duty (one a line, e.g. Sat 09:00-13:00)",
        "duty.phone": "Mobile for urgent alerts",
        "duty.chat": "Chat handle for urgent alerts",
        "duty.none": "No staff announced by the desk yet.",
        # the local mailbox
        "mailbox.title": "Local mailbox",
        "mailbox.intro": (
            "No SMTP server is configured, so the platform's own mail server keeps every "
            "email here instead of sending it on (set CORTESIA_SMTP_HOST and "
            "CORTESIA_SMTP_FROM to send for real)."
        ),
        "mailbox.none": "No email yet.",
        # the views' own messages
        "said.queued": "Queued: it goes out with the next delivery round.",
        "said.reverted": "Back to the text from the catalogue.",
        "said.saved": "Saved: messages are written with it from now on.",
        "said.duty_saved": "Duty hours of {name} saved.",
        "said.phone": "Write the phone number in international form, e.g. +5511912345678.",
        "said.slot_form": "Line {number} ({line}): write e.g. Mon 10:00-19:00.",
        "said.slot_order": "Line {number}: the end must come after the start.",
        "said.bad_status": "status must be one of {statuses}.",
        "said.bad_date": "{name} must be a date such as 2026-12-01.",
        "said.no_staff": "No staff member {id}.",
        "said.no_mailbox": "Email goes through the configured SMTP server, not a local mailbox.",
    },
    "pt-BR": {
        "nav": "Notificações",
        "nav.log": "Registro de envios",
        "nav.templates": "Modelos",
        "nav.duty": "Plantões",
        "nav.mailbox": "Caixa de correio local",
        "log.title": "Registro de envios",
        "log.search_for": "Endereço, nome, assunto ou id do evento",
        "status": "Situação",
        "any": "qualquer",
        "message": "Mensagem",
        "since": "De",
        "until": "Até",
        "search": "Buscar",
        "log.count.one": "1 mensagem",
        "log.count.many": "{count} mensagens",
        "log.newest": ", as {shown} mais recentes à vista",
        "to": "Para",
        "channel": "Canal",
        "when": "Quando",
        "urgent": "urgente",
        "log.sent": "enviada {when}",
        "log.held": "retida até {when}",
        "log.next": "próxima tentativa {when}",
        "log.older": "Mensagens anteriores",
        "log.none": "Nenhuma mensagem encontrada.",
        "notification.title": "Notificação {id}",
        "notification.heading": "{kind} para {who}",
        "address": "Endereço",
        "language": "Idioma",
        "wanted": "(pedido: {language})",
        "attempts": "Tentativas",
        "from_event": "Do evento {type} {id}",
        "send_again": "Enviar de novo",
        "steps": "Etapas",
        "as_seen": "O e-mail como o cliente o vê",
        "plain_text": "Texto simples",
        "templates.title": "Modelos de mensagem",
        "templates.intro": (
            "Cada mensagem que o notify escreve, por canal e idioma. Abra uma para lê-la com "
            "dados de exemplo; a dona as edita. (editado) marca o texto da dona."
        ),
        "templates.missing": "Traduções que faltam",
        "templates.written_elsewhere.one": "1 mensagem escrita em outro idioma",
        "templates.written_elsewhere.many": "{count} mensagens escritas em outro idioma",
        "audience.customer": "Para clientes",
        "audience.staff": "Alertas à equipe",
        "texts": "Textos",
        "optional": "opcional",
        "edited": "(editado)",
        "template.is_edit": "Este é o texto editado pela dona.",
        "template.is_catalogue": "Este é o texto do catálogo.",
        "template.other_languages": "Outros idiomas:",
        "subject": "Assunto",
        "text": "Texto",
        "html_body": "Corpo em HTML (opcional; o layout acrescenta o cabeçalho e o rodapé)",
        "save": "Salvar",
        "template.revert": "Voltar ao texto do catálogo",
        "template.preview": "Prévia com dados de exemplo",
        "template.preview_frame": "Prévia do e-mail",
        "duty.title": "Plantões",
        "duty.intro": (
            "Os alertas de chamados novos vão para quem está de plantão; uma emergência "
            "chega na hora, primeiro por SMS ou chat quando a pessoa tem. Quem não tem "
            "horários aqui fica de plantão no horário comercial. Os horários são os da "
            "empresa."
        ),
        "duty.slots": "De plantão (um por linha, ex.: Sáb 09:00-13:00)",
        "duty.phone": "Celular para alertas urgentes",
        "duty.chat": "Chat para alertas urgentes",
        "duty.none": "O atendimento ainda não informou ninguém da equipe.",
        "mailbox.title": "Caixa de correio local",
        "mailbox.intro": (
            "Nenhum servidor SMTP está configurado: o servidor de e-mail da própria "
            "plataforma guarda aqui cada e-mail em vez de enviá-lo (defina "
            "CORTESIA_SMTP_HOST e CORTESIA_SMTP_FROM para enviar de verdade)."
        ),
        "mailbox.none": "Nenhum e-mail ainda.",
        "said.queued": "Na fila: sai na próxima rodada de envios.",
        "said.reverted": "De volta ao texto do catálogo.",
        "said.saved": "Salvo: as mensagens passam a ser escritas com ele.",
        "said.duty_saved": "Plantões de {name} salvos.",
        "said.phone": "Escreva o telefone no formato internacional, ex.: +5511912345678.",
        "said.slot_form": "Linha {number} ({line}): escreva, por exemplo, Seg 10:00-19:00.",
        "said.slot_order": "Linha {number}: o fim deve vir depois do início.",
        "said.bad_status": "a situação deve ser uma destas: {statuses}.",
        "said.bad_date": "{name} deve ser uma data como 2026-12-01.",
        "said.no_staff": "Ninguém da equipe com o número {id}.",
        "said.no_mailbox": (
            "Os e-mails saem pelo servidor SMTP configurado, não por uma caixa de correio local."
        ),
        # stored values
        "status.held": "retida",
        "status.queued": "na fila",
        "status.sending": "enviando",
        "status.sent": "enviada",
        "status.failed": "falhou",
        "status.parked": "parada",
        "status.skipped": "não enviada",
        "status.cancelled": "cancelada",
        **role_names("pt-BR"),
    },
}


STAFF_WORDS = StaffWords(WORDS)
say = STAFF_WORDS.say


def weekdays() -> tuple[str, ...]:
    return WEEKDAYS[page_language()]


def speak_on(blueprint: Blueprint) -> None:
    """Give every page ``blueprint`` renders the staff member's language and its words."""
    STAFF_WORDS.speak_on(blueprint, lambda: {"weekdays": weekdays()})
