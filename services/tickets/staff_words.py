"""The staff desk's words in English and Brazilian Portuguese.

Which one a page speaks is ``shared.web.staff_language``'s to say: the staff member's own
choice (the switcher in the desk's sub-navigation), then the browser's. Templates read
``t('key')`` or ``words.key``; stored values (a status, a priority, a department...) are
shown with ``name_of('status', ticket.status)``.

English shows stored values as they are, so its table names none of them; Portuguese names
each one under ``group.value`` (``status.on_hold``). What the service layer says (the texts
of TicketError and StaffError) stays as it was written; only the pages' own words and the
views' own messages are here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from services.tickets import forms
from services.tickets.staff import MIN_PASSWORD_LENGTH
from shared.web.staff_language import StaffWords, choose_staff_language, staff_language

LANGUAGE_NAMES = {"en": "English", "pt-BR": "Português"}
"""Each language in its own words, for the switcher."""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        # the desk's sub-navigation
        "nav.desk": "Desk",
        "nav.queue": "Queue",
        "nav.my_day": "My day",
        "nav.new_ticket": "New ticket (phone)",
        "nav.reviews": "Reviews",
        "nav.staff": "Staff",
        "nav.audit": "Audit log",
        "nav.settings": "Settings",
        "nav.maintenance": "Maintenance",
        "nav.language": "Language",
        # words many pages share
        "any": "any",
        "customer": "Customer",
        "department": "Department",
        "priority": "Priority",
        "status": "Status",
        "assignee": "Assignee",
        "name": "Name",
        "email": "Email",
        "role": "Role",
        "record": "Record",
        "save": "Save",
        "due": "due {when}",
        "lesson": "lesson",
        # the queue
        "queue.title": "Queue",
        "queue.held_one": "{count} reply waiting for your review",
        "queue.held_many": "{count} replies waiting for your review",
        "queue.show": "Show",
        "queue.search": "Search",
        "queue.search_hint": "subject, email, reference or words in a message",
        "queue.filter": "Filter",
        "queue.count_one": "{count} ticket",
        "queue.count_many": "{count} tickets",
        "queue.count_over": "More than {count} tickets",
        "queue.most_pressing_first": ", most pressing first",
        "queue.ticket": "Ticket",
        "queue.sla": "SLA",
        "queue.emergency": "EMERGENCY",
        "queue.next_page": "Next page",
        "queue.empty": "Nothing here.",
        # a ticket
        "ticket.emergency": "emergency: {kind}",
        "ticket.writing": "{name} is writing a reply.",
        "ticket.viewing": "{name} is also viewing.",
        "ticket.first_response": "First response",
        "ticket.next_response": "Next response",
        "ticket.resolution": "Resolution",
        "ticket.due": "(due {when})",
        "ticket.conversation": "Conversation",
        "ticket.someone_on_staff": "staff",
        "ticket.internal_note": "internal note",
        "ticket.held": "held for review",
        "ticket.returned": "returned: {comment}",
        "ticket.overridden": "sent over the checker: {note}",
        "ticket.reply": "Reply",
        "ticket.start_from_canned": "Start from a canned reply",
        "ticket.no_canned": "none",
        "ticket.your_reply_to": "Your reply to {name}",
        "ticket.beyond_hosting": ("The question is beyond hosting (point to where to learn more)"),
        "ticket.then": "Then the ticket is",
        "ticket.then_waiting": "waiting on the customer",
        "ticket.then_open": "open",
        "ticket.then_on_hold": "on hold",
        "ticket.override": "Send over a blocking finding, because (owner only)",
        "ticket.send_reply": "Send reply",
        "ticket.note": "Internal note",
        "ticket.note_hint": "Only staff see this",
        "ticket.add_note": "Add note",
        "ticket.resolve": "Resolve (P-RESOLVE)",
        "ticket.cause_question": "What caused it",
        "ticket.fix_question": "What fixed it",
        "ticket.prevention_question": "What keeps it from happening again",
        "ticket.resolve_button": "Resolve and send the summary and survey",
        "ticket.cause": "Cause:",
        "ticket.fix": "Fix:",
        "ticket.prevention": "Prevention:",
        "ticket.rated": "Rated {rating} of 5",
        "ticket.history": "History",
        "ticket.billing": "Billing:",
        "ticket.managed": "managed",
        "ticket.grace": "One-time grace (P-ONE-GRACE):",
        "ticket.grace_used_on": "already used on {date}",
        "ticket.grace_unused": "not used yet",
        "ticket.open_elsewhere_one": "{count} other open ticket",
        "ticket.open_elsewhere_many": "{count} other open tickets",
        "ticket.unknown_customer": "Not a customer billing knows.",
        "ticket.script": "Suggested script",
        "ticket.reactivate": "Reactivate",
        "ticket.grace_gone": (
            "The one grace was used on {date}: billing will refuse a second unless the owner "
            "decides otherwise."
        ),
        "ticket.grace_left": (
            "This is the customer's one grace: the account comes back until the date they choose."
        ),
        "ticket.pay_by": "The customer will pay by",
        "ticket.grace_note": "Note",
        "ticket.ask_reactivation": "Ask billing to reactivate",
        "ticket.cancellation": "Cancellation request (P-EASE)",
        "ticket.cancel_reason": "Why they want to cancel (ask)",
        "ticket.offer_made": "The one offer you made (do not insist)",
        "ticket.outcome": "Outcome",
        "ticket.still_cancels": "they still cancel",
        "ticket.stays": "they stay",
        "ticket.when": "When",
        "ticket.at_period_end": "at the end of the paid period",
        "ticket.now": "now",
        "ticket.ticket": "Ticket",
        "ticket.nobody": "nobody",
        "ticket.tags": "Tags (comma-separated)",
        "ticket.merge_into": "Merge into another ticket",
        "ticket.ticket_to_keep": "The ticket to keep (number)",
        "ticket.merge": "Merge",
        "ticket.deliveries": "Recent messages to the customer",
        "ticket.customer_notes": "Notes on the customer",
        "ticket.care_tasks": "Open care tasks",
        # opening a ticket for a call
        "new.title": "New ticket",
        "new.intro": (
            "For a phone call or a message that came another way. The customer gets the "
            "acknowledgement by email."
        ),
        "new.unknown_customer": "not a customer billing knows",
        "new.what_was_said": "What the customer said",
        "new.subject": "Subject",
        "new.emergency": "Emergency (alerts whoever is on duty at once)",
        "new.no_emergency": "no",
        "new.came_by": "Came by",
        "new.open": "Open the ticket",
        # the review queue
        "reviews.title": "Replies to review",
        "reviews.body": "The reply (edit before approving if needed)",
        "reviews.comment_for": "Comment for {name} (needed to return it)",
        "reviews.approve": "Approve and send",
        "reviews.return": "Return with comment",
        "reviews.empty": "Nothing waits for review.",
        # the desk's settings
        "settings.title": "Desk settings",
        "settings.targets": "SLA targets (business minutes)",
        "settings.targets_help": (
            "Counted in business hours (Mon-Fri 10:00-12:00 and 14:00-19:00, São Paulo, "
            "Brazilian holidays); emergencies count around the clock; waits on the customer do "
            "not count."
        ),
        "settings.save_targets": "Save targets",
        "settings.rules": "Escalation rules (P-ESCALATE)",
        "settings.rule": "Rule",
        "settings.when": "When",
        "settings.does": "Does",
        "settings.any_department": "any department",
        "settings.any_priority": "any priority",
        "settings.any_open_status": "any open status",
        "settings.after": "after {minutes} min",
        "settings.actions_separator": ",",
        "settings.pause": "Pause",
        "settings.resume": "Resume",
        "settings.no_rule": "No rule yet.",
        "settings.any_open": "any open",
        "settings.after_minutes": "After business minutes since opened",
        "settings.actions": "Actions",
        "settings.reassign_to": "Reassign to",
        "settings.add_rule": "Add rule",
        "settings.canned": "Canned replies",
        "settings.placeholders": "Placeholders:",
        "settings.canned_help": (
            "A canned reply is a start: it still goes through the reply checker."
        ),
        "settings.canned_title": "Title",
        "settings.canned_language": "Language",
        "settings.canned_text": "Text",
        "settings.save_canned": "Save canned reply",
        # each person's day
        "day.title": "My day",
        "day.care": "Care due",
        "day.task_due": "{kind}, due {date}",
        "day.how_it_went": "How it went",
        "day.done": "Done",
        "day.nothing_due": "Nothing due.",
        "day.my_tickets": "My open tickets",
        "day.no_tickets": "None.",
        "day.returned": "Replies returned to you",
        "day.ticket": "ticket #{id}",
        "day.late": "Running late (P-LATE)",
        "day.late_customer": "The customer waiting for you",
        "day.late_minutes": "Minutes late",
        "day.tell_them": "Tell them now",
        "day.referral": "A referral (P-REFERRAL)",
        "day.referrer": "Who recommended us",
        "day.referred": "Whom they recommended us to",
        # the team and the audit log
        "staff.title": "Staff",
        "staff.change": "Change",
        "staff.removed": "(removed)",
        "staff.change_role": "Change role",
        "staff.remove": "Remove",
        "staff.add": "Add someone",
        "staff.add_help": (
            "A trainee is enrolled in the onboarding path and their replies are held for "
            "review until they are certified."
        ),
        "staff.add_button": "Add and email the password link",
        "audit.title": "Audit log",
        "audit.when": "When",
        "audit.who": "Who",
        "audit.what": "What",
        "audit.on": "On",
        "audit.detail": "Detail",
        "audit.empty": "Nothing yet.",
        # signing in, setting up, passwords
        "login.title": "Sign in",
        "login.password": "Password",
        "login.button": "Sign in",
        "login.forgot": "Forgot your password?",
        "setup.title": "Set up Cortesia",
        "setup.intro": "Create the owner's account. The owner adds the rest of the team later.",
        "setup.your_name": "Your name",
        "setup.password": "Password",
        "setup.confirm": "Repeat the password",
        "setup.button": "Create the owner account",
        "password.request_title": "Set a new password",
        "password.sent": (
            "If that address has an account, a link to set a new password is on its way. It "
            "works once, for 24 hours."
        ),
        "password.your_email": "Your email",
        "password.send_link": "Email me a link",
        "password.choose_title": "Choose your password",
        "password.new": "Password (at least {length} characters)",
        "password.repeat": "Repeat it",
        "password.set_button": "Set password and sign in",
        # what the views say after a form
        "said.not_sent": (
            "The reply was not sent: fix what blocks it (or, as the owner, send it with a note)."
        ),
        "said.sent": "Reply sent.",
        "said.overridden": "Reply sent over the checker, with your note.",
        "said.held": "Your reply waits for review before it goes to the customer.",
        "said.note_added": "Note added.",
        "said.choose_assignee": "Choose someone from the list.",
        "said.ticket_updated": "Ticket updated.",
        "said.merge_number": "Give the number of the ticket to merge into.",
        "said.merged": "#{number} merged into this ticket.",
        "said.resolved": "Resolved: the customer gets the summary and the survey.",
        "said.pay_by": "Give the date the customer will pay by.",
        "said.reactivation_asked": (
            "Asked billing to reactivate the account; its answer appears here."
        ),
        "said.recorded": "Recorded.",
        "said.choose_customer_or_none": "Choose the customer from the list, or leave it empty.",
        "said.ticket_opened": "Ticket opened.",
        "said.approved": "Approved: the reply went to the customer.",
        "said.returned": "Returned to its author with your comment.",
        "said.approve_or_return": "Approve or return the reply.",
        "said.inactive": "Your account is no longer active.",
        "said.no_attachment": "No attachment {number}.",
        "said.one_of": "{field} must be one of {values}.",
        "said.whole_minutes": "{priority} {target}: whole minutes.",
        "said.targets_saved": (
            "SLA targets saved: the clocks of open tickets follow them from now on."
        ),
        "said.rule_minutes": "After how many business minutes? Write a whole number.",
        "said.rule_added": "Escalation rule added.",
        "said.no_rule": "No rule {number}.",
        "said.canned_saved": "Canned reply saved.",
        "said.choose_customer": "Choose the customer.",
        "said.done": "Done.",
        "said.referral": "Referral recorded: the thank-you and the follow-up are on the list.",
        "said.late": "The customer is told you are running late; they are first on your list.",
        "said.added": "{name} is added: a link to choose a password is on its way to them.",
        "said.role_changed": "{name} is now {role}.",
        "said.removed": "{name} no longer has access.",
        "said.role_or_remove": "Change the role or remove the person.",
        "said.no_match": "That email and password do not match an active account.",
        "said.give_email": "Give your email address.",
        "said.passwords_differ": "The passwords differ.",
        "said.password_set": "Your password is set.",
        "said.setup_closed": "Setup is closed",
        "said.setup_closed_why": "This installation already has an owner. Sign in instead.",
        "said.welcome": "Welcome, {name}. Your owner account is ready.",
        # maintenance windows
        "maintenance.title": "Maintenance windows",
        "maintenance.intro": (
            "Notify announces each window to the customers it affects, in their own language, "
            "during their business hours and at least {hours} hours before it starts; an hour "
            "before, it reminds them. A window that starts sooner than that is announced at once, "
            "whatever the hour. Calling a window off withdraws the messages not sent yet."
        ),
        "maintenance.coming": "Coming up",
        "maintenance.none_coming": "No maintenance scheduled.",
        "maintenance.recent": "Over in the last {days} days",
        "maintenance.none_past": "None.",
        "maintenance.when": "{start} to {end}",
        "maintenance.called_off": "called off {when} by {who}",
        "maintenance.in_progress": "in progress",
        "maintenance.was_short": "announced at once: less than {hours} hours' notice",
        "maintenance.customers_one": "{count} customer affected",
        "maintenance.customers_many": "{count} customers affected",
        "maintenance.unknown_customer": "customer #{number} (not known to the desk)",
        "maintenance.scheduled_by": "scheduled {when} by {who}",
        "maintenance.call_off": "Call off",
        "maintenance.call_off_hint": (
            "Messages not sent yet are withdrawn; customers already told get no notice that it is "
            "off."
        ),
        "maintenance.schedule": "Schedule a window",
        "maintenance.fix_fields": "The window was not scheduled: see what is marked below.",
        "maintenance.field_title": "Title (what customers read first)",
        "maintenance.field_details": "Details (what changes for the customer during the window)",
        "maintenance.times_hint": (
            "Start and end on the company's clock ({zone}); each customer reads them on their own "
            "clock."
        ),
        "maintenance.starts": "Starts",
        "maintenance.ends": "Ends",
        "maintenance.short_warning": (
            "This window starts in less than {hours} hours: notify tells the customers at once, "
            "whatever the hour, and they get less than the {hours} hours' notice they are "
            "promised."
        ),
        "maintenance.no_reminder_hint": (
            "It starts within {hours} hour: there will be no reminder, only the announcement."
        ),
        "maintenance.short_ok": "Announce it at once, with the shorter notice",
        "maintenance.customers": "Affected customers",
        "maintenance.customers_hint": (
            "Tick each customer the window affects; each is told in their own language."
        ),
        "maintenance.search": "Search customers (name, email or #number)",
        "maintenance.choose_shown": "Choose all shown",
        "maintenance.clear": "Clear",
        "maintenance.chosen": "{count} chosen",
        "maintenance.no_match": "No customer matches.",
        "maintenance.no_customers": "Billing has not told the desk about any customer yet.",
        "maintenance.submit": "Schedule and announce",
        "said.maintenance_in_the_past": (
            "A maintenance window is scheduled ahead: choose a start later than now."
        ),
        "said.maintenance_confirm_short": (
            "Confirm that the customers are told at once, with the shorter notice, or choose a "
            "later start."
        ),
        "said.maintenance_scheduled": (
            "Scheduled: {title}. Notify announces it to the {count} customer(s) affected at least "
            "{hours} hours ahead, in their business hours, and reminds them an hour before."
        ),
        "said.maintenance_scheduled_short": (
            "Scheduled: {title}. It starts in less than {hours} hours, so notify tells the "
            "{count} customer(s) affected now, not {hours} hours ahead."
        ),
        "said.maintenance_called_off": (
            "Called off: {title}. What notify had not sent yet is withdrawn."
        ),
        "said.no_maintenance": "No maintenance window {number}.",
        "said.maintenance_already_off": "Maintenance {number} was already called off.",
        # what the sign-in and setup forms' fields answer
        "form.required": "This field is required.",
        "form.invalid_email": "Invalid email address.",
        "form.password_short": "Field must be at least {length} characters long.",
        "form.name_long": "Field cannot be longer than 200 characters.",
        "form.maintenance_title": "Say what the maintenance is: customers read the title first.",
        "form.title_long": "A title is at most 200 characters.",
        "form.details_long": "The details are at most 5000 characters.",
        "form.moment": "Give a date and a time.",
        "form.no_customers": "Choose the customers the maintenance affects.",
        "form.not_a_customer": "Choose the customers from the list.",
        "form.ends_before_start": "The window ends after it starts.",
    },
    "pt-BR": {
        "nav.desk": "Atendimento",
        "nav.queue": "Fila",
        "nav.my_day": "Meu dia",
        "nav.new_ticket": "Novo chamado (telefone)",
        "nav.reviews": "Revisões",
        "nav.staff": "Equipe",
        "nav.audit": "Registro de auditoria",
        "nav.settings": "Configurações",
        "nav.maintenance": "Manutenção",
        "nav.language": "Idioma",
        "any": "qualquer",
        "customer": "Cliente",
        "department": "Departamento",
        "priority": "Prioridade",
        "status": "Situação",
        "assignee": "Responsável",
        "name": "Nome",
        "email": "E-mail",
        "role": "Função",
        "record": "Registrar",
        "save": "Salvar",
        "due": "vence {when}",
        "lesson": "lição",
        "queue.title": "Fila",
        "queue.held_one": "{count} resposta aguardando sua revisão",
        "queue.held_many": "{count} respostas aguardando sua revisão",
        "queue.show": "Mostrar",
        "queue.search": "Buscar",
        "queue.search_hint": "assunto, e-mail, referência ou palavras de uma mensagem",
        "queue.filter": "Filtrar",
        "queue.count_one": "{count} chamado",
        "queue.count_many": "{count} chamados",
        "queue.count_over": "Mais de {count} chamados",
        "queue.most_pressing_first": ", os mais urgentes primeiro",
        "queue.ticket": "Chamado",
        "queue.sla": "SLA",
        "queue.emergency": "EMERGÊNCIA",
        "queue.next_page": "Próxima página",
        "queue.empty": "Nada por aqui.",
        "ticket.emergency": "emergência: {kind}",
        "ticket.writing": "{name} está escrevendo uma resposta.",
        "ticket.viewing": "{name} também está com este chamado aberto.",
        "ticket.first_response": "Primeira resposta",
        "ticket.next_response": "Próxima resposta",
        "ticket.resolution": "Resolução",
        "ticket.due": "(vence {when})",
        "ticket.conversation": "Conversa",
        "ticket.someone_on_staff": "equipe",
        "ticket.internal_note": "nota interna",
        "ticket.held": "retida para revisão",
        "ticket.returned": "devolvida: {comment}",
        "ticket.overridden": "enviada apesar do verificador: {note}",
        "ticket.reply": "Responder",
        "ticket.start_from_canned": "Começar com uma resposta pronta",
        "ticket.no_canned": "nenhuma",
        "ticket.your_reply_to": "Sua resposta para {name}",
        "ticket.beyond_hosting": (
            "A pergunta vai além da hospedagem (indique onde a pessoa pode aprender mais)"
        ),
        "ticket.then": "Depois, o chamado fica",
        "ticket.then_waiting": "aguardando o cliente",
        "ticket.then_open": "aberto",
        "ticket.then_on_hold": "em espera",
        "ticket.override": "Enviar apesar de um bloqueio, porque (só a dona)",
        "ticket.send_reply": "Enviar resposta",
        "ticket.note": "Nota interna",
        "ticket.note_hint": "Só a equipe vê esta nota",
        "ticket.add_note": "Adicionar nota",
        "ticket.resolve": "Resolver (P-RESOLVE)",
        "ticket.cause_question": "O que causou o problema",
        "ticket.fix_question": "O que resolveu",
        "ticket.prevention_question": "O que evita que aconteça de novo",
        "ticket.resolve_button": "Resolver e enviar o resumo e a pesquisa",
        "ticket.cause": "Causa:",
        "ticket.fix": "Correção:",
        "ticket.prevention": "Prevenção:",
        "ticket.rated": "Nota {rating} de 5",
        "ticket.history": "Histórico",
        "ticket.billing": "Financeiro:",
        "ticket.managed": "gerenciado",
        "ticket.grace": "Carência única (P-ONE-GRACE):",
        "ticket.grace_used_on": "já usada em {date}",
        "ticket.grace_unused": "ainda não usada",
        "ticket.open_elsewhere_one": "{count} outro chamado aberto",
        "ticket.open_elsewhere_many": "{count} outros chamados abertos",
        "ticket.unknown_customer": "Não é um cliente cadastrado no financeiro.",
        "ticket.script": "Roteiro sugerido",
        "ticket.reactivate": "Reativar",
        "ticket.grace_gone": (
            "A única carência foi usada em {date}: o financeiro vai recusar uma segunda, a não "
            "ser que a dona decida o contrário."
        ),
        "ticket.grace_left": (
            "Esta é a única carência do cliente: a conta volta a funcionar até a data que ele "
            "escolher."
        ),
        "ticket.pay_by": "O cliente vai pagar até",
        "ticket.grace_note": "Observação",
        "ticket.ask_reactivation": "Pedir a reativação ao financeiro",
        "ticket.cancellation": "Pedido de cancelamento (P-EASE)",
        "ticket.cancel_reason": "Por que quer cancelar (pergunte)",
        "ticket.offer_made": "A única oferta que você fez (não insista)",
        "ticket.outcome": "Resultado",
        "ticket.still_cancels": "cancela mesmo assim",
        "ticket.stays": "continua com a gente",
        "ticket.when": "Quando",
        "ticket.at_period_end": "no fim do período já pago",
        "ticket.now": "agora",
        "ticket.ticket": "Chamado",
        "ticket.nobody": "ninguém",
        "ticket.tags": "Etiquetas (separadas por vírgula)",
        "ticket.merge_into": "Mesclar com outro chamado",
        "ticket.ticket_to_keep": "O chamado que continua (número)",
        "ticket.merge": "Mesclar",
        "ticket.deliveries": "Mensagens recentes enviadas ao cliente",
        "ticket.customer_notes": "Observações sobre o cliente",
        "ticket.care_tasks": "Tarefas de cuidado em aberto",
        "new.title": "Novo chamado",
        "new.intro": (
            "Para uma ligação ou uma mensagem que chegou por outro meio. O cliente recebe a "
            "confirmação por e-mail."
        ),
        "new.unknown_customer": "não é um cliente cadastrado no financeiro",
        "new.what_was_said": "O que o cliente disse",
        "new.subject": "Assunto",
        "new.emergency": "Emergência (alerta na hora quem está de plantão)",
        "new.no_emergency": "não",
        "new.came_by": "Chegou por",
        "new.open": "Abrir o chamado",
        "reviews.title": "Respostas para revisar",
        "reviews.body": "A resposta (edite antes de aprovar, se precisar)",
        "reviews.comment_for": "Comentário para {name} (obrigatório para devolver)",
        "reviews.approve": "Aprovar e enviar",
        "reviews.return": "Devolver com comentário",
        "reviews.empty": "Nenhuma resposta aguardando revisão.",
        "settings.title": "Configurações do atendimento",
        "settings.targets": "Metas de SLA (minutos úteis)",
        "settings.targets_help": (
            "Contadas em horário comercial (seg. a sex., 10:00-12:00 e 14:00-19:00, horário de "
            "São Paulo, sem os feriados nacionais); emergências contam 24 horas por dia; o "
            "tempo aguardando o cliente não conta."
        ),
        "settings.save_targets": "Salvar metas",
        "settings.rules": "Regras de escalonamento (P-ESCALATE)",
        "settings.rule": "Regra",
        "settings.when": "Quando",
        "settings.does": "Ações",
        "settings.any_department": "qualquer departamento",
        "settings.any_priority": "qualquer prioridade",
        "settings.any_open_status": "qualquer situação em aberto",
        "settings.after": "após {minutes} min",
        "settings.actions_separator": ", ",
        "settings.pause": "Pausar",
        "settings.resume": "Retomar",
        "settings.no_rule": "Nenhuma regra ainda.",
        "settings.any_open": "qualquer uma em aberto",
        "settings.after_minutes": "Após quantos minutos úteis desde a abertura",
        "settings.actions": "Ações",
        "settings.reassign_to": "Reatribuir a",
        "settings.add_rule": "Adicionar regra",
        "settings.canned": "Respostas prontas",
        "settings.placeholders": "Marcadores:",
        "settings.canned_help": (
            "Uma resposta pronta é só o começo: ela também passa pelo verificador de respostas."
        ),
        "settings.canned_title": "Título",
        "settings.canned_language": "Idioma",
        "settings.canned_text": "Texto",
        "settings.save_canned": "Salvar resposta pronta",
        "day.title": "Meu dia",
        "day.care": "Cuidados com clientes a fazer",
        "day.task_due": "{kind}, até {date}",
        "day.how_it_went": "Como foi",
        "day.done": "Feito",
        "day.nothing_due": "Nada pendente.",
        "day.my_tickets": "Meus chamados em aberto",
        "day.no_tickets": "Nenhum.",
        "day.returned": "Respostas devolvidas para você",
        "day.ticket": "chamado #{id}",
        "day.late": "Atraso (P-LATE)",
        "day.late_customer": "O cliente que está esperando por você",
        "day.late_minutes": "Minutos de atraso",
        "day.tell_them": "Avisar agora",
        "day.referral": "Uma indicação (P-REFERRAL)",
        "day.referrer": "Quem nos indicou",
        "day.referred": "Para quem nos indicou",
        "staff.title": "Equipe",
        "staff.change": "Alterar",
        "staff.removed": "(sem acesso)",
        "staff.change_role": "Mudar a função",
        "staff.remove": "Remover",
        "staff.add": "Adicionar alguém",
        "staff.add_help": (
            "Quem entra em treinamento é inscrito na trilha de integração, e as respostas "
            "dessa pessoa ficam retidas para revisão até a certificação."
        ),
        "staff.add_button": "Adicionar e enviar o link de senha por e-mail",
        "audit.title": "Registro de auditoria",
        "audit.when": "Quando",
        "audit.who": "Quem",
        "audit.what": "O quê",
        "audit.on": "Onde",
        "audit.detail": "Detalhe",
        "audit.empty": "Nada ainda.",
        "login.title": "Entrar",
        "login.password": "Senha",
        "login.button": "Entrar",
        "login.forgot": "Esqueceu a senha?",
        "setup.title": "Configurar o Cortesia",
        "setup.intro": "Crie a conta da dona. Depois, ela adiciona o resto da equipe.",
        "setup.your_name": "Seu nome",
        "setup.password": "Senha",
        "setup.confirm": "Repita a senha",
        "setup.button": "Criar a conta da dona",
        "password.request_title": "Definir uma nova senha",
        "password.sent": (
            "Se esse endereço tiver uma conta, um link para definir uma nova senha está a "
            "caminho. Ele funciona uma única vez, por 24 horas."
        ),
        "password.your_email": "Seu e-mail",
        "password.send_link": "Enviar um link por e-mail",
        "password.choose_title": "Escolha sua senha",
        "password.new": "Senha (pelo menos {length} caracteres)",
        "password.repeat": "Repita a senha",
        "password.set_button": "Definir a senha e entrar",
        "said.not_sent": (
            "A resposta não foi enviada: corrija o que a bloqueia (ou, se você for a dona, "
            "envie com uma nota)."
        ),
        "said.sent": "Resposta enviada.",
        "said.overridden": "Resposta enviada apesar do verificador, com a sua nota.",
        "said.held": "Sua resposta aguarda revisão antes de ir para o cliente.",
        "said.note_added": "Nota adicionada.",
        "said.choose_assignee": "Escolha alguém da lista.",
        "said.ticket_updated": "Chamado atualizado.",
        "said.merge_number": "Informe o número do chamado com que este vai ser mesclado.",
        "said.merged": "O chamado #{number} foi mesclado com este.",
        "said.resolved": "Resolvido: o cliente recebe o resumo e a pesquisa.",
        "said.pay_by": "Informe a data até a qual o cliente vai pagar.",
        "said.reactivation_asked": (
            "Pedimos ao financeiro para reativar a conta; a resposta aparece aqui."
        ),
        "said.recorded": "Registrado.",
        "said.choose_customer_or_none": "Escolha o cliente na lista ou deixe em branco.",
        "said.ticket_opened": "Chamado aberto.",
        "said.approved": "Aprovada: a resposta foi enviada ao cliente.",
        "said.returned": "Devolvida para quem escreveu, com o seu comentário.",
        "said.approve_or_return": "Aprove ou devolva a resposta.",
        "said.inactive": "Sua conta não está mais ativa.",
        "said.no_attachment": "Não há anexo {number}.",
        "said.one_of": "{field} precisa ser um destes: {values}.",
        "said.whole_minutes": "{priority}, {target}: informe minutos inteiros.",
        "said.targets_saved": (
            "Metas de SLA salvas: os prazos dos chamados em aberto seguem as novas metas a "
            "partir de agora."
        ),
        "said.rule_minutes": "Depois de quantos minutos úteis? Escreva um número inteiro.",
        "said.rule_added": "Regra de escalonamento adicionada.",
        "said.no_rule": "Não há regra {number}.",
        "said.canned_saved": "Resposta pronta salva.",
        "said.choose_customer": "Escolha o cliente.",
        "said.done": "Feito.",
        "said.referral": (
            "Indicação registrada: o agradecimento e o acompanhamento já estão na lista."
        ),
        "said.late": "O cliente foi avisado do seu atraso; ele é o primeiro da sua lista.",
        "said.added": "{name} entrou na equipe: um link para escolher a senha está a caminho.",
        "said.role_changed": "Agora a função de {name} é {role}.",
        "said.removed": "{name} não tem mais acesso.",
        "said.role_or_remove": "Mude a função ou remova a pessoa.",
        "said.no_match": "Esse e-mail e essa senha não correspondem a uma conta ativa.",
        "said.give_email": "Informe seu endereço de e-mail.",
        "said.passwords_differ": "As senhas não são iguais.",
        "said.password_set": "Sua senha foi definida.",
        "said.setup_closed": "A configuração inicial já foi feita",
        "said.setup_closed_why": "Esta instalação já tem uma dona. Entre com a sua conta.",
        "said.welcome": "Boas-vindas, {name}. Sua conta de dona está pronta.",
        "maintenance.title": "Janelas de manutenção",
        "maintenance.intro": (
            "O notify avisa cada cliente afetado no idioma dele, no horário comercial dele e com "
            "pelo menos {hours} horas de antecedência; uma hora antes, manda um lembrete. Uma "
            "janela que começa antes disso é avisada na hora, seja qual for o horário. Cancelar "
            "uma janela retira as mensagens ainda não enviadas."
        ),
        "maintenance.coming": "Próximas",
        "maintenance.none_coming": "Nenhuma manutenção agendada.",
        "maintenance.recent": "Encerradas nos últimos {days} dias",
        "maintenance.none_past": "Nenhuma.",
        "maintenance.when": "de {start} a {end}",
        "maintenance.called_off": "cancelada em {when} por {who}",
        "maintenance.in_progress": "em andamento",
        "maintenance.was_short": "avisada na hora: menos de {hours} horas de antecedência",
        "maintenance.customers_one": "{count} cliente afetado",
        "maintenance.customers_many": "{count} clientes afetados",
        "maintenance.unknown_customer": "cliente #{number} (desconhecido do atendimento)",
        "maintenance.scheduled_by": "agendada em {when} por {who}",
        "maintenance.call_off": "Cancelar a manutenção",
        "maintenance.call_off_hint": (
            "As mensagens ainda não enviadas são retiradas; quem já foi avisado não recebe aviso "
            "do cancelamento."
        ),
        "maintenance.schedule": "Agendar uma janela",
        "maintenance.fix_fields": "A janela não foi agendada: veja o que está marcado abaixo.",
        "maintenance.field_title": "Título (o que o cliente lê primeiro)",
        "maintenance.field_details": "Detalhes (o que muda para o cliente durante a janela)",
        "maintenance.times_hint": (
            "Início e término no horário da empresa ({zone}); cada cliente os lê no próprio fuso."
        ),
        "maintenance.starts": "Início",
        "maintenance.ends": "Término",
        "maintenance.short_warning": (
            "Esta janela começa em menos de {hours} horas: o notify avisa os clientes na hora, "
            "seja qual for o horário, e eles terão menos que as {hours} horas de antecedência "
            "prometidas."
        ),
        "maintenance.no_reminder_hint": (
            "Ela começa em até {hours} hora: não haverá lembrete, só o aviso."
        ),
        "maintenance.short_ok": "Avisar agora, com a antecedência menor",
        "maintenance.customers": "Clientes afetados",
        "maintenance.customers_hint": (
            "Marque cada cliente que a janela afeta; cada um é avisado no próprio idioma."
        ),
        "maintenance.search": "Buscar clientes (nome, e-mail ou #número)",
        "maintenance.choose_shown": "Marcar todos os mostrados",
        "maintenance.clear": "Desmarcar todos",
        "maintenance.chosen": "{count} marcados",
        "maintenance.no_match": "Nenhum cliente corresponde à busca.",
        "maintenance.no_customers": (
            "O financeiro ainda não informou nenhum cliente ao atendimento."
        ),
        "maintenance.submit": "Agendar e avisar",
        "said.maintenance_in_the_past": (
            "Uma janela de manutenção é agendada com antecedência: escolha um início depois de "
            "agora."
        ),
        "said.maintenance_confirm_short": (
            "Confirme que os clientes serão avisados agora, com a antecedência menor, ou escolha "
            "um início mais tarde."
        ),
        "said.maintenance_scheduled": (
            "Agendada: {title}. O notify avisa o(s) {count} cliente(s) afetado(s) com pelo menos "
            "{hours} horas de antecedência, no horário comercial de cada um, e manda um lembrete "
            "uma hora antes."
        ),
        "said.maintenance_scheduled_short": (
            "Agendada: {title}. Ela começa em menos de {hours} horas: o notify avisa agora o(s) "
            "{count} cliente(s) afetado(s), não {hours} horas antes."
        ),
        "said.maintenance_called_off": (
            "Cancelada: {title}. O que o notify ainda não tinha enviado foi retirado."
        ),
        "said.no_maintenance": "Não há janela de manutenção {number}.",
        "said.maintenance_already_off": "A manutenção {number} já estava cancelada.",
        "form.required": "Preencha este campo.",
        "form.invalid_email": "Endereço de e-mail inválido.",
        "form.password_short": "Use pelo menos {length} caracteres.",
        "form.name_long": "Use no máximo 200 caracteres.",
        "form.maintenance_title": "Diga o que é a manutenção: o cliente lê o título primeiro.",
        "form.title_long": "O título tem no máximo 200 caracteres.",
        "form.details_long": "Os detalhes têm no máximo 5000 caracteres.",
        "form.moment": "Informe a data e a hora.",
        "form.no_customers": "Escolha os clientes que a manutenção afeta.",
        "form.not_a_customer": "Escolha os clientes da lista.",
        "form.ends_before_start": "O término vem depois do início.",
        # stored values, as the desk shows them
        "status.new": "novo",
        "status.open": "aberto",
        "status.waiting": "aguardando o cliente",
        "status.on_hold": "em espera",
        "status.resolved": "resolvido",
        "status.closed": "fechado",
        "priority.low": "baixa",
        "priority.normal": "normal",
        "priority.high": "alta",
        "priority.urgent": "urgente",
        "department.support": "suporte",
        "department.billing": "financeiro",
        "department.sales": "vendas",
        "view.open": "em aberto",
        "view.mine": "meus",
        "view.unassigned": "sem responsável",
        "view.waiting": "aguardando o cliente",
        "view.emergency": "emergências",
        "view.resolved": "resolvidos",
        "view.all": "todos",
        "sla.ok": "no prazo",
        "sla.warning": "perto do prazo",
        "sla.breached": "prazo estourado",
        "sla.paused": "pausado",
        "sla.missed": "prazo perdido",
        "sla.met": "prazo cumprido",
        "sla.not_applicable": "não se aplica",
        "emergency.site_down": "site fora do ar",
        "emergency.email_down": "e-mail fora do ar",
        "emergency.data_at_risk": "dados em risco",
        "emergency.security": "segurança",
        "channel.portal": "portal",
        "channel.email": "e-mail",
        "channel.api": "API",
        "channel.phone": "telefone",
        "billing.active": "ativo",
        "billing.overdue": "em atraso",
        "billing.suspended": "suspenso",
        "billing.pending_cancellation": "cancelamento agendado",
        "billing.cancelled": "cancelado",
        "billing.terminated": "encerrado",
        "care.email": "e-mail",
        "care.call": "ligação",
        "care.referral": "indicação",
        "care.late": "atraso",
        "action.reassign": "reatribuir",
        "action.raise_priority": "aumentar a prioridade",
        "action.alert_owner": "avisar a dona",
        "action.attach_script": "anexar o roteiro",
        "target.first_response_minutes": "primeira resposta",
        "target.next_response_minutes": "próxima resposta",
        "target.resolution_minutes": "resolução",
        "role.owner": "dona",
        "role.agent": "atendente",
        "role.billing": "financeiro",
        "role.trainee": "em treinamento",
    },
}

_FIELD_ERRORS = {
    "This field is required.": "form.required",
    "Invalid email address.": "form.invalid_email",
    f"Field must be at least {MIN_PASSWORD_LENGTH} characters long.": "form.password_short",
    "Field cannot be longer than 200 characters.": "form.name_long",
    "The passwords differ.": "said.passwords_differ",
    forms.NO_TITLE: "form.maintenance_title",
    forms.TITLE_TOO_LONG: "form.title_long",
    forms.DETAILS_TOO_LONG: "form.details_long",
    forms.NOT_A_MOMENT: "form.moment",
    forms.NO_CUSTOMERS: "form.no_customers",
    forms.NOT_A_CUSTOMER: "form.not_a_customer",
    forms.ENDS_BEFORE_START: "form.ends_before_start",
}
"""The forms' validation messages, to the words that say them."""


STAFF_WORDS = StaffWords(WORDS)
say = STAFF_WORDS.say
name_of = STAFF_WORDS.name_of


def field_error(message: str) -> str:
    """A form field's validation message in the page's language, when it is one we know."""
    key = _FIELD_ERRORS.get(message)
    if key is None:
        return message
    return say(key, length=MIN_PASSWORD_LENGTH)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: switching language must never
    send a staff member elsewhere (an open redirect helps phishing)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read a backslash as a slash and drop tabs and newlines from addresses.
    if "\\" in target or any(character.isspace() or ord(character) < 32 for character in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _page_context() -> dict[str, Any]:
    # After a form's POST the page's own address is not one to come back to by GET.
    here = request.script_root + request.full_path.rstrip("?") if request.method == "GET" else None
    return {
        "words": WORDS[staff_language()],
        "field_error": field_error,
        "staff_languages": LANGUAGE_NAMES,
        "here": here,
        "min_password_length": MIN_PASSWORD_LENGTH,
    }


def choose_language(code: str) -> Response:
    """Keep ``code`` as this staff member's language and go back to the page they were on."""
    choose_staff_language(code)
    return redirect(safe_next(request.args.get("next")) or url_for("desk_pages.queue"))


def speak_on(blueprint: Blueprint) -> None:
    """Give every page ``blueprint`` renders the staff member's language and its words."""
    STAFF_WORDS.speak_on(blueprint, _page_context)
