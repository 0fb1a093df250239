"""Billing's staff pages in English and Brazilian Portuguese.

Which one a page speaks is ``shared.web.staff_language``'s to say (the desk's switcher,
then the browser), and so is how the words are used (``StaffWords``). Templates read
``t('key')``, stored values ``name_of('status', subscription.status)``, and a form
field's validation message ``field_error(message)``; a field's label is the word
``field.<name>`` (``billing/_field.html``). What the service layer says (BillingError's
texts, a held invoice's reasons, the timeline, a grace decision) stays as it was
written; only the pages' own words and the views' own messages are here. An invoice
itself speaks the customer's language (``services.billing.documents``), not the staff
member's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Blueprint
from wtforms.fields.choices import SelectChoice

from shared.web.staff_language import StaffWords, page_language

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "pt-BR": ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"),
}
"""How the reserve report's chart names the months, January first, in each language."""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "nav": "Billing",
        "nav.customers": "Customers",
        "nav.held": "Held invoices",
        "nav.overdue": "Overdue",
        "nav.reserve": "Reserve report",
        "nav.settings": "Settings",
        # words many pages share
        "customer": "Customer",
        "name": "Name",
        "email": "Email",
        "language": "Language",
        "status": "Status",
        "invoice": "Invoice",
        "due": "Due",
        "total": "Total",
        "balance": "Balance",
        "period": "{start} to {end}",
        # the customers
        "customers.title": "Customers",
        "customers.search_for": "Search by name or email",
        "customers.search": "Search",
        "customers.subscriptions": "Subscriptions",
        "customers.none_match": "No customer matches “{query}”.",
        "customers.none": "No customers yet.",
        "customers.new": "New customer",
        "customers.add": "Add customer",
        # a customer's account
        "customer.managed": "managed",
        "customer.credit": "Credit available:",
        "customer.grace_used": "One-time grace used on {day} (pay by {pay_by})",
        "customer.grace_overridden": "; later override by the owner",
        "customer.grace_unused": "The one-time grace has not been used.",
        "subscriptions.title": "Subscriptions",
        "subscriptions.plan": "Plan",
        "subscriptions.period": "Current period",
        "subscriptions.none": "No subscriptions.",
        "subscriptions.start_one": "Start a subscription",
        "subscriptions.start": "Start",
        "invoices.title": "Invoices",
        "invoices.number": "Number",
        "invoices.kind": "Kind",
        "invoices.draft": "draft",
        "invoices.overdue": "(overdue)",
        "invoices.none": "No invoices.",
        "payments.title": "Payments",
        "payments.paid": "{amount} by {method}",
        "payments.recorded_by": "(recorded by {who})",
        "payments.none": "No payments.",
        "payments.record_one": "Record a payment",
        "payments.record": "Record payment",
        "payments.oldest_first": "Oldest open invoices first",
        "payments.open_invoice": "#{number} due {due}",
        "grace.title": "Reactivate with a grace",
        "grace.intro": (
            "Once per account, the customer chooses the date they will pay by. A second "
            "request is refused unless the owner overrides it with a note."
        ),
        "grace.request": "Request reactivation",
        "cancellation.title": "Cancel a subscription",
        "cancellation.record": "Record the cancellation",
        "timeline.title": "Timeline",
        "timeline.automatic": "(automatic)",
        "timeline.none": "Nothing yet.",
        # the forms' fields, by name, and their options
        "field.name": "Name",
        "field.email": "Billing email",
        "field.language": "Language",
        "field.timezone": "Timezone",
        "field.currency": "Currency",
        "field.managed": "Managed customer (check-ins and periodic reports)",
        "field.plan_id": "Plan",
        "field.start": "First period starts",
        "field.amount": "Amount",
        "field.invoice_id": "Invoice",
        "field.method": "Method",
        "field.subscription_id": "Subscription",
        "field.pay_by": "The customer will pay by",
        "field.owner_override": "Owner override: grant a second grace",
        "field.note": "Note (required for an override)",
        "field.when": "When",
        "field.reason": "Reason the customer gave",
        "choice.method.pix": "PIX",
        "choice.method.boleto": "Boleto",
        "choice.method.transfer": "Bank transfer",
        "choice.method.card": "Card",
        "choice.method.cash": "Cash",
        "choice.when.period_end": "At the end of the paid period",
        "choice.when.now": "At once",
        "choice.review.recheck": "Check again",
        "choice.review.void": "Void",
        # the forms' own checks (WTForms' own messages are in English as it writes them)
        "form.not_an_amount": "{text} is not an amount.",
        "form.not_positive": "The amount must be more than zero.",
        "form.cents": "Amounts have at most two decimals.",
        "form.not_a_timezone": "{zone} is not a timezone, e.g. America/Mexico_City.",
        # held invoices
        "held.title": "Held invoices",
        "held.intro": (
            "These failed a check before issue and were not sent. Fix the cause (the "
            "customer's address, the plan, the lines), then check the invoice again; or "
            "void it."
        ),
        "held.period": "Period",
        "held.why": "Why it was held",
        "held.review": "Review",
        "held.none": "No invoice is held.",
        # overdue invoices
        "overdue.title": "Overdue",
        "overdue.heading": "Overdue invoices",
        "overdue.days": "Days overdue",
        "overdue.account": "Account",
        "overdue.none": "Nothing is overdue.",
        # the reserve report
        "reserve.title": "Reserve report",
        "reserve.intro": (
            "A share of every payment is booked to the reserve, so that a loss or a grace "
            "never puts the servers' costs at risk. As of {day}."
        ),
        "reserve.revenue": "Revenue",
        "reserve.balance": "Reserve balance",
        "reserve.outstanding": "Outstanding",
        "reserve.overdue": "Overdue",
        "reserve.chart": "Revenue and reserve per month, {currency}",
        "reserve.month_revenue": "{month} revenue {amount}",
        "reserve.month_reserve": "{month} reserve {amount}",
        "reserve.legend_revenue": "revenue",
        "reserve.legend_reserve": "reserve, per month",
        "reserve.none": "No payments yet.",
        # the settings
        "settings.title": "Billing settings",
        "settings.intro": (
            "The policy every billing run follows. Each number is set in the environment "
            "of the billing service and takes effect when it restarts."
        ),
        "settings.rule": "Rule",
        "settings.in_force": "In force",
        "settings.variable": "Variable",
        "settings.renewal": "Renewal invoices are made",
        "settings.reminders": "Reminders",
        "settings.overdue_notices": "Overdue notices",
        "settings.suspension": "Suspension",
        "settings.warning": "Warning before suspension",
        "settings.late_fee": "Late fee",
        "settings.termination": "Termination",
        "settings.reserve": "Reserve",
        "settings.grace": "One-time grace",
        "settings.delivery_alert": "Delivery alert",
        "settings.days_before_due": "{days} days before due",
        "settings.days_after_due": "{days} days after due",
        "settings.none": "none",
        "settings.suspend_after": "{days} days overdue, in business hours",
        "settings.business_days.one": "1 business day",
        "settings.business_days.many": "{count} business days",
        "settings.share_of_invoice": "{percent}% of the invoice",
        "settings.late_fee_off": "off",
        "settings.terminate_after": "after {days} days suspended",
        "settings.termination_off": "off",
        "settings.share_of_payment": "{percent}% of every payment",
        "settings.grace_days": "pay-by date at most {days} days ahead",
        "settings.after_hours": "after {hours} hours",
        # the views' own messages
        "said.customer_added": "Customer {name} added.",
        "said.subscription_started": "Subscription started.",
        "said.payment_recorded": "Payment of {paid} recorded; {reserved} to the reserve.",
        "said.grace_granted": "Grace granted: {why}",
        "said.grace_refused": "Grace refused: {why}",
        "said.cancellation_recorded": "Cancellation recorded.",
        "said.issued": "The invoice passed its checks and was issued.",
        "said.still_held": "The invoice still fails its checks; see the reasons below.",
        "said.voided": "The invoice was voided.",
        "said.invoice_is": "The invoice is {status}.",
        "said.review_how": "Choose to check the invoice again or to void it.",
        "said.no_invoice": "No invoice with id {id}.",
        "said.bad_date": "{name} must be a date like 2026-11-30.",
    },
    "pt-BR": {
        "nav": "Financeiro",
        "nav.customers": "Clientes",
        "nav.held": "Faturas retidas",
        "nav.overdue": "Em atraso",
        "nav.reserve": "Relatório da reserva",
        "nav.settings": "Configurações",
        "customer": "Cliente",
        "name": "Nome",
        "email": "E-mail",
        "language": "Idioma",
        "status": "Situação",
        "invoice": "Fatura",
        "due": "Vencimento",
        "total": "Total",
        "balance": "Saldo",
        "period": "{start} a {end}",
        "customers.title": "Clientes",
        "customers.search_for": "Buscar por nome ou e-mail",
        "customers.search": "Buscar",
        "customers.subscriptions": "Assinaturas",
        "customers.none_match": "Nenhum cliente encontrado para “{query}”.",
        "customers.none": "Nenhum cliente ainda.",
        "customers.new": "Novo cliente",
        "customers.add": "Adicionar cliente",
        "customer.managed": "gerenciado",
        "customer.credit": "Crédito disponível:",
        "customer.grace_used": "Carência única usada em {day} (pagamento até {pay_by})",
        "customer.grace_overridden": "; depois a dona concedeu outra",
        "customer.grace_unused": "A carência única ainda não foi usada.",
        "subscriptions.title": "Assinaturas",
        "subscriptions.plan": "Plano",
        "subscriptions.period": "Período atual",
        "subscriptions.none": "Nenhuma assinatura.",
        "subscriptions.start_one": "Iniciar uma assinatura",
        "subscriptions.start": "Iniciar",
        "invoices.title": "Faturas",
        "invoices.number": "Número",
        "invoices.kind": "Tipo",
        "invoices.draft": "rascunho",
        "invoices.overdue": "(em atraso)",
        "invoices.none": "Nenhuma fatura.",
        "payments.title": "Pagamentos",
        "payments.paid": "{amount} {method}",
        "payments.recorded_by": "(registrado por {who})",
        "payments.none": "Nenhum pagamento.",
        "payments.record_one": "Registrar um pagamento",
        "payments.record": "Registrar pagamento",
        "payments.oldest_first": "As faturas em aberto mais antigas primeiro",
        "payments.open_invoice": "nº {number}, vencimento {due}",
        "grace.title": "Reativar com carência",
        "grace.intro": (
            "Uma vez por conta, o cliente escolhe a data até a qual vai pagar. Um segundo "
            "pedido é recusado, a menos que a dona o libere com uma observação."
        ),
        "grace.request": "Pedir a reativação",
        "cancellation.title": "Cancelar uma assinatura",
        "cancellation.record": "Registrar o cancelamento",
        "timeline.title": "Histórico",
        "timeline.automatic": "(automático)",
        "timeline.none": "Nada ainda.",
        "field.name": "Nome",
        "field.email": "E-mail de cobrança",
        "field.language": "Idioma",
        "field.timezone": "Fuso horário",
        "field.currency": "Moeda",
        "field.managed": "Cliente gerenciado (acompanhamento e relatórios periódicos)",
        "field.plan_id": "Plano",
        "field.start": "Início do primeiro período",
        "field.amount": "Valor",
        "field.invoice_id": "Fatura",
        "field.method": "Forma de pagamento",
        "field.subscription_id": "Assinatura",
        "field.pay_by": "O cliente vai pagar até",
        "field.owner_override": "Liberação da dona: conceder uma segunda carência",
        "field.note": "Observação (obrigatória para uma liberação)",
        "field.when": "Quando",
        "field.reason": "Motivo dado pelo cliente",
        "choice.method.pix": "PIX",
        "choice.method.boleto": "Boleto",
        "choice.method.transfer": "Transferência bancária",
        "choice.method.card": "Cartão",
        "choice.method.cash": "Dinheiro",
        "choice.when.period_end": "Ao fim do período pago",
        "choice.when.now": "Imediatamente",
        "choice.review.recheck": "Verificar de novo",
        "choice.review.void": "Anular",
        "form.not_an_amount": "{text} não é um valor.",
        "form.not_positive": "O valor deve ser maior que zero.",
        "form.cents": "Os valores têm no máximo duas casas decimais.",
        "form.not_a_timezone": "{zone} não é um fuso horário; por exemplo, America/Sao_Paulo.",
        "form.required": "Preencha este campo.",
        "form.invalid_email": "Endereço de e-mail inválido.",
        "form.invalid_date": "Informe uma data válida.",
        "form.invalid_choice": "Escolha uma das opções da lista.",
        "form.at_most_200": "Use no máximo 200 caracteres.",
        "form.at_most_2000": "Use no máximo 2000 caracteres.",
        "held.title": "Faturas retidas",
        "held.intro": (
            "Estas faturas não passaram em uma verificação antes da emissão e não foram "
            "enviadas. Corrija a causa (o endereço do cliente, o plano, os itens) e verifique "
            "a fatura de novo; ou anule-a."
        ),
        "held.period": "Período",
        "held.why": "Por que foi retida",
        "held.review": "Revisão",
        "held.none": "Nenhuma fatura retida.",
        "overdue.title": "Em atraso",
        "overdue.heading": "Faturas em atraso",
        "overdue.days": "Dias de atraso",
        "overdue.account": "Conta",
        "overdue.none": "Nada em atraso.",
        "reserve.title": "Relatório da reserva",
        "reserve.intro": (
            "Uma parte de cada pagamento vai para a reserva, para que uma perda ou uma "
            "carência nunca ponha em risco os custos dos servidores. Posição em {day}."
        ),
        "reserve.revenue": "Receita",
        "reserve.balance": "Saldo da reserva",
        "reserve.outstanding": "A receber",
        "reserve.overdue": "Em atraso",
        "reserve.chart": "Receita e reserva por mês, {currency}",
        "reserve.month_revenue": "{month}: receita de {amount}",
        "reserve.month_reserve": "{month}: reserva de {amount}",
        "reserve.legend_revenue": "receita",
        "reserve.legend_reserve": "reserva, por mês",
        "reserve.none": "Nenhum pagamento ainda.",
        "settings.title": "Configurações do financeiro",
        "settings.intro": (
            "As regras que cada rodada de cobrança segue. Cada número é definido no ambiente "
            "do serviço de financeiro e passa a valer quando ele reinicia."
        ),
        "settings.rule": "Regra",
        "settings.in_force": "Em vigor",
        "settings.variable": "Variável",
        "settings.renewal": "As faturas de renovação são geradas",
        "settings.reminders": "Lembretes",
        "settings.overdue_notices": "Avisos de atraso",
        "settings.suspension": "Suspensão",
        "settings.warning": "Aviso antes da suspensão",
        "settings.late_fee": "Multa por atraso",
        "settings.termination": "Encerramento",
        "settings.reserve": "Reserva",
        "settings.grace": "Carência única",
        "settings.delivery_alert": "Alerta de fatura não entregue",
        "settings.days_before_due": "{days} dias antes do vencimento",
        "settings.days_after_due": "{days} dias depois do vencimento",
        "settings.none": "nenhum",
        "settings.suspend_after": "com {days} dias de atraso, em horário comercial",
        "settings.business_days.one": "1 dia útil",
        "settings.business_days.many": "{count} dias úteis",
        "settings.share_of_invoice": "{percent}% da fatura",
        "settings.late_fee_off": "desativada",
        "settings.terminate_after": "depois de {days} dias de suspensão",
        "settings.termination_off": "desativado",
        "settings.share_of_payment": "{percent}% de cada pagamento",
        "settings.grace_days": "prazo de pagamento de até {days} dias",
        "settings.after_hours": "depois de {hours} horas",
        "said.customer_added": "Cliente {name} adicionado.",
        "said.subscription_started": "Assinatura iniciada.",
        "said.payment_recorded": "Pagamento de {paid} registrado; {reserved} para a reserva.",
        "said.grace_granted": "Carência concedida: {why}",
        "said.grace_refused": "Carência recusada: {why}",
        "said.cancellation_recorded": "Cancelamento registrado.",
        "said.issued": "A fatura passou nas verificações e foi emitida.",
        "said.still_held": "A fatura ainda não passa nas verificações; veja os motivos abaixo.",
        "said.voided": "A fatura foi anulada.",
        "said.invoice_is": "A fatura está {status}.",
        "said.review_how": "Escolha verificar a fatura de novo ou anulá-la.",
        "said.no_invoice": "Nenhuma fatura com o id {id}.",
        "said.bad_date": "{name} deve ser uma data como 2026-11-30.",
        # stored values: a subscription's and an invoice's status (both feminine:
        # assinatura, fatura), why a subscription was suspended, an invoice's kind, a
        # plan's cycle, and how a payment came in (with its preposition, which differs
        # from one to the next: "via PIX", "em dinheiro")
        "status.active": "ativa",
        "status.suspended": "suspensa",
        "status.pending_cancellation": "cancelamento agendado",
        "status.cancelled": "cancelada",
        "status.terminated": "encerrada",
        "status.held": "retida",
        "status.issued": "emitida",
        "status.paid": "paga",
        "status.void": "anulada",
        "reason.non_payment": "falta de pagamento",
        "kind.renewal": "renovação",
        "kind.proration": "proporcional",
        "kind.late_fee": "multa por atraso",
        "cycle.monthly": "mensal",
        "cycle.quarterly": "trimestral",
        "cycle.yearly": "anual",
        "paid_by.pix": "via PIX",
        "paid_by.boleto": "por boleto",
        "paid_by.transfer": "por transferência",
        "paid_by.card": "no cartão",
        "paid_by.cash": "em dinheiro",
        "paid_by.manual": "por lançamento manual",
        "paid_by.gateway": "pelo gateway de pagamento",
    },
}

_FIELD_ERRORS = {
    "This field is required.": "form.required",
    "Invalid email address.": "form.invalid_email",
    "Not a valid date value.": "form.invalid_date",
    "Not a valid choice.": "form.invalid_choice",
    "Invalid Choice: could not coerce.": "form.invalid_choice",
    "Field cannot be longer than 200 characters.": "form.at_most_200",
    "Field cannot be longer than 2000 characters.": "form.at_most_2000",
}
"""WTForms' own validation messages, as it writes them in English, to the words that say
them in other languages."""


STAFF_WORDS = StaffWords(WORDS)
say = STAFF_WORDS.say
count_of = STAFF_WORDS.count_of
name_of = STAFF_WORDS.name_of


def field_error(message: str) -> str:
    """A form field's validation message in the page's language. The forms' own checks
    already speak it; WTForms' messages come in English and are looked up here."""
    key = _FIELD_ERRORS.get(message)
    return WORDS[page_language()].get(key, message) if key else message


def choices_of(group: str, values: Sequence[str]) -> Callable[[], list[SelectChoice]]:
    """A select field's choices, each value named ``choice.<group>.<value>``: WTForms reads
    them when the form is shown, so in the language of that page."""
    return lambda: [SelectChoice(value, say(f"choice.{group}.{value}")) for value in values]


def speak_on(blueprint: Blueprint) -> None:
    """Give every page ``blueprint`` renders the staff member's language and its words."""
    STAFF_WORDS.speak_on(
        blueprint,
        lambda: {"field_error": field_error, "month_names": MONTHS[page_language()]},
    )
