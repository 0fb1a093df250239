"""Schemas of every event on the bus, one class per versioned event type.

A breaking change is a new version registered beside the old one; both are
published until every consumer has moved.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.registry import REGISTRY

STAFF_ROLES = ("owner", "agent", "billing", "trainee")


@REGISTRY.register("tickets.staff_added.v1")
class StaffAddedV1(Schema):
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))


@REGISTRY.register("tickets.staff_role_changed.v1")
class StaffRoleChangedV1(Schema):
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    old_role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    new_role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))


@REGISTRY.register("tickets.password_link_requested.v1")
class PasswordLinkRequestedV1(Schema):
    """A staff member's link to set their password (a new account, or a forgotten one):
    notify emails it at once."""

    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    name = fields.String(required=True)
    email = fields.Email(required=True)
    link = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)
    new_account = fields.Boolean(required=True)


@REGISTRY.register("tickets.staff_removed.v1")
class StaffRemovedV1(Schema):
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))


# -- billing -----------------------------------------------------------------------

LANGUAGES = ("pt-BR", "es", "en")
SUSPENSION_REASONS = ("non_payment", "abuse", "customer_request", "other")


class _CustomerRef(Schema):
    """Who a billing event is about, with what notify needs to write to them."""

    customer_id = fields.Integer(required=True, validate=validate.Range(min=1))
    customer_name = fields.String(required=True)
    email = fields.Email(required=True, allow_none=True)
    """Where the customer's billing mail goes; None when they have no deliverable address
    (the event still counts for every other consumer; notify reports it cannot write)."""
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    timezone = fields.String(required=True)


@REGISTRY.register("billing.customer_created.v1")
class CustomerCreatedV1(_CustomerRef):
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    managed = fields.Boolean(required=True)


@REGISTRY.register("billing.customer_updated.v1")
class CustomerUpdatedV1(CustomerCreatedV1):
    pass


class _InvoiceRef(_CustomerRef):
    invoice_id = fields.Integer(required=True, validate=validate.Range(min=1))
    invoice_number = fields.Integer(allow_none=True, load_default=None)
    subscription_id = fields.Integer(allow_none=True, load_default=None)
    total_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    balance_minor = fields.Integer(required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    due_date = fields.Date(required=True)


class InvoiceLineRef(Schema):
    description = fields.String(required=True)
    """Written in the customer's language."""
    quantity = fields.Integer(required=True)
    unit_minor = fields.Integer(required=True)
    amount_minor = fields.Integer(required=True)


@REGISTRY.register("billing.invoice_issued.v1")
class InvoiceIssuedV1(_InvoiceRef):
    """The invoice itself goes with it: notify writes it into the customer's email."""

    lines = fields.List(fields.Nested(InvoiceLineRef), load_default=list)
    period_start = fields.Date(allow_none=True, load_default=None)
    period_end = fields.Date(allow_none=True, load_default=None)


@REGISTRY.register("billing.invoice_held.v1")
class InvoiceHeldV1(_InvoiceRef):
    reasons = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


@REGISTRY.register("billing.reminder_due.v1")
class ReminderDueV1(_InvoiceRef):
    days_before_due = fields.Integer(required=True, validate=validate.Range(min=0))


@REGISTRY.register("billing.invoice_overdue.v1")
class InvoiceOverdueV1(_InvoiceRef):
    days_overdue = fields.Integer(required=True, validate=validate.Range(min=1))


@REGISTRY.register("billing.invoice_undelivered.v1")
class InvoiceUndeliveredV1(_InvoiceRef):
    """An issued invoice notify has not confirmed as delivered within 24 hours (staff alert)."""

    issued_at = fields.AwareDateTime(required=True)


@REGISTRY.register("billing.payment_received.v1")
class PaymentReceivedV1(_CustomerRef):
    payment_id = fields.Integer(required=True, validate=validate.Range(min=1))
    invoice_id = fields.Integer(allow_none=True, load_default=None)
    amount_minor = fields.Integer(required=True, validate=validate.Range(min=1))
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    method = fields.String(required=True)
    credit_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    """The part of the payment that became credit (overpayment)."""


@REGISTRY.register("billing.invoice_paid.v1")
class InvoicePaidV1(_InvoiceRef):
    pass


class _SubscriptionRef(_CustomerRef):
    subscription_id = fields.Integer(required=True, validate=validate.Range(min=1))
    plan_name = fields.String(required=True)


@REGISTRY.register("billing.subscription_started.v1")
class SubscriptionStartedV1(_SubscriptionRef):
    """A customer subscribed to a plan: the desk learns which subscription a cancellation
    request names before its first invoice exists."""

    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)


@REGISTRY.register("billing.suspension_warning.v1")
class SuspensionWarningV1(_SubscriptionRef):
    invoice_id = fields.Integer(required=True)
    suspend_on = fields.Date(required=True)


@REGISTRY.register("billing.account_suspended.v1")
class AccountSuspendedV1(_SubscriptionRef):
    reason = fields.String(required=True, validate=validate.OneOf(SUSPENSION_REASONS))


@REGISTRY.register("billing.account_reactivated.v1")
class AccountReactivatedV1(_SubscriptionRef):
    cause = fields.String(required=True, validate=validate.OneOf(("payment", "grace", "staff")))
    pay_by = fields.Date(allow_none=True, load_default=None)
    """The date the customer promised to pay by, for a grace."""


@REGISTRY.register("billing.grace_refused.v1")
class GraceRefusedV1(_SubscriptionRef):
    reason = fields.String(required=True)
    first_grace_on = fields.Date(allow_none=True, load_default=None)


@REGISTRY.register("billing.subscription_cancelled.v1")
class SubscriptionCancelledV1(_SubscriptionRef):
    effective_on = fields.Date(required=True)
    at_period_end = fields.Boolean(required=True)
    reason = fields.String(required=True)


@REGISTRY.register("billing.subscription_ended.v1")
class SubscriptionEndedV1(_SubscriptionRef):
    """A cancellation took effect (the request was announced as subscription_cancelled)."""

    ended_on = fields.Date(required=True)
    reason = fields.String(required=True)


@REGISTRY.register("billing.account_terminated.v1")
class AccountTerminatedV1(_SubscriptionRef):
    suspended_since = fields.Date(required=True)


# -- events billing listens to from the desk and notify ---------------------------


TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
DEPARTMENTS = ("support", "billing", "sales")


@REGISTRY.register("tickets.ticket_opened.v1")
class TicketOpenedV1(Schema):
    """A new ticket at the desk, from any channel."""

    ticket_id = fields.Integer(required=True, validate=validate.Range(min=1))
    customer_id = fields.Integer(allow_none=True, load_default=None)
    department = fields.String(required=True, validate=validate.OneOf(DEPARTMENTS))
    priority = fields.String(required=True, validate=validate.OneOf(TICKET_PRIORITIES))
    emergency = fields.Boolean(required=True)
    subject = fields.String(required=True, validate=validate.Length(max=300))
    requester_name = fields.String(allow_none=True, load_default=None)
    requester_email = fields.Email(allow_none=True, load_default=None)
    """Where the desk writes back; for a customer billing does not know yet, the only one."""
    language = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(LANGUAGES))
    reference = fields.String(allow_none=True, load_default=None)
    """The ticket's reference, e.g. ``T-1042-8f3a``: a reply carrying it threads back."""


@REGISTRY.register("tickets.billing_ticket_opened.v1")
class BillingTicketOpenedV1(Schema):
    ticket_id = fields.Integer(required=True, validate=validate.Range(min=1))
    customer_id = fields.Integer(required=True, validate=validate.Range(min=1))


@REGISTRY.register("tickets.billing_ticket_closed.v1")
class BillingTicketClosedV1(BillingTicketOpenedV1):
    pass


class _DeskRequest(Schema):
    """A request the desk makes of billing on a customer's behalf. Billing answers with
    its own events, whose causation id is the request's event id."""

    customer_id = fields.Integer(required=True, validate=validate.Range(min=1))
    subscription_id = fields.Integer(required=True, validate=validate.Range(min=1))
    ticket_id = fields.Integer(allow_none=True, load_default=None)
    requested_by = fields.Email(required=True)
    """The staff member's email."""
    requested_by_role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))


@REGISTRY.register("tickets.reactivation_requested.v1")
class ReactivationRequestedV1(_DeskRequest):
    """P-ONE-GRACE: reactivate a suspended account until the customer's chosen date."""

    pay_by = fields.Date(required=True)
    owner_override = fields.Boolean(load_default=False)
    note = fields.String(allow_none=True, load_default=None)


@REGISTRY.register("tickets.cancellation_requested.v1")
class CancellationRequestedV1(_DeskRequest):
    """P-EASE: the customer still wants to cancel after the reason was asked and one offer
    made; billing ends the subscription (at the end of the period unless asked otherwise)."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    offer_made = fields.String(allow_none=True, load_default=None)
    at_period_end = fields.Boolean(load_default=True)


@REGISTRY.register("billing.request_declined.v1")
class RequestDeclinedV1(Schema):
    """A desk request billing could not carry out as asked, and why (nothing was changed)."""

    request_type = fields.String(required=True)
    customer_id = fields.Integer(required=True, validate=validate.Range(min=1))
    subscription_id = fields.Integer(required=True, validate=validate.Range(min=1))
    ticket_id = fields.Integer(allow_none=True, load_default=None)
    reason = fields.String(required=True)


# -- the desk's work on tickets: what notify tells customers and staff, and what training
# coaches from ------------------------------------------------------------------------

FINDING_SEVERITIES = ("block", "warn")
REPLY_OUTCOMES = ("sent", "held", "stopped", "overridden")
SLA_TARGETS = ("first_response", "next_response", "resolution")


class _TicketRef(Schema):
    ticket_id = fields.Integer(required=True, validate=validate.Range(min=1))
    customer_id = fields.Integer(allow_none=True, load_default=None)
    subject = fields.String(required=True, validate=validate.Length(max=300))
    reference = fields.String(allow_none=True, load_default=None)
    requester_email = fields.Email(allow_none=True, load_default=None)
    language = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(LANGUAGES))


class FindingRef(Schema):
    check = fields.String(required=True)
    """The check's key, e.g. ``P-RESOLVE:cause``."""
    rule = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(FINDING_SEVERITIES))


@REGISTRY.register("tickets.reply_checked.v1")
class ReplyCheckedV1(Schema):
    """A staff member's reply went through the reply checker on its way to the customer:
    sent, held for review (trainee), stopped by a blocking finding, or sent over one
    with the owner's override."""

    ticket_id = fields.Integer(required=True, validate=validate.Range(min=1))
    customer_id = fields.Integer(allow_none=True, load_default=None)
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    outcome = fields.String(required=True, validate=validate.OneOf(REPLY_OUTCOMES))
    findings = fields.List(fields.Nested(FindingRef), required=True)
    checked_at = fields.AwareDateTime(required=True)


@REGISTRY.register("tickets.reply_posted.v1")
class ReplyPostedV1(_TicketRef):
    """A reply from staff for the customer (after review, when it was held)."""

    reply_id = fields.Integer(required=True, validate=validate.Range(min=1))
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    staff_name = fields.String(required=True)
    body = fields.String(required=True, validate=validate.Length(min=1))


@REGISTRY.register("tickets.reply_awaiting_review.v1")
class ReplyAwaitingReviewV1(Schema):
    """A trainee's reply is held; reviewers are alerted."""

    ticket_id = fields.Integer(required=True, validate=validate.Range(min=1))
    reply_id = fields.Integer(required=True, validate=validate.Range(min=1))
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    staff_name = fields.String(required=True)
    subject = fields.String(required=True)


@REGISTRY.register("tickets.ticket_resolved.v1")
class TicketResolvedV1(_TicketRef):
    """P-RESOLVE: resolved with its cause, fix and prevention; notify sends the summary and
    the satisfaction survey, training coaches from the SLA outcome."""

    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    staff_name = fields.String(required=True)
    cause = fields.String(required=True, validate=validate.Length(min=1))
    fix = fields.String(required=True, validate=validate.Length(min=1))
    prevention = fields.String(required=True, validate=validate.Length(min=1))
    survey_url = fields.String(allow_none=True, load_default=None)
    first_response_met = fields.Boolean(allow_none=True, load_default=None)
    resolution_met = fields.Boolean(allow_none=True, load_default=None)
    resolved_at = fields.AwareDateTime(required=True)


@REGISTRY.register("tickets.ticket_rated.v1")
class TicketRatedV1(Schema):
    ticket_id = fields.Integer(required=True, validate=validate.Range(min=1))
    customer_id = fields.Integer(allow_none=True, load_default=None)
    staff_id = fields.Integer(allow_none=True, load_default=None)
    """Who resolved the ticket."""
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(allow_none=True, load_default=None)
    rated_at = fields.AwareDateTime(required=True)


@REGISTRY.register("tickets.follow_up_due.v1")
class FollowUpDueV1(_TicketRef):
    """P-EASE: the check, some days after a resolution, that all is still well."""

    resolved_on = fields.Date(required=True)


@REGISTRY.register("tickets.closing_soon.v1")
class ClosingSoonV1(_TicketRef):
    """A ticket waiting on the customer closes on ``closes_on`` unless they answer."""

    closes_on = fields.Date(required=True)


@REGISTRY.register("tickets.ticket_closed.v1")
class TicketClosedV1(_TicketRef):
    reason = fields.String(
        required=True, validate=validate.OneOf(("resolved", "inactive", "merged", "staff"))
    )


@REGISTRY.register("tickets.portal_link_requested.v1")
class PortalLinkRequestedV1(Schema):
    """Someone asked to sign in to the customer portal: notify emails the link at once.
    Following it proves the address is theirs (how a new customer is verified)."""

    email = fields.Email(required=True)
    customer_id = fields.Integer(allow_none=True, load_default=None)
    name = fields.String(allow_none=True, load_default=None)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    link = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)


@REGISTRY.register("tickets.running_late.v1")
class RunningLateV1(_CustomerRef):
    """P-LATE: the staff member the customer is waiting for is running late: tell them at
    once."""

    minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=240))
    staff_name = fields.String(required=True)


class _TicketAlert(Schema):
    ticket_id = fields.Integer(required=True, validate=validate.Range(min=1))
    subject = fields.String(required=True)
    priority = fields.String(required=True, validate=validate.OneOf(TICKET_PRIORITIES))
    assignee_id = fields.Integer(allow_none=True, load_default=None)


@REGISTRY.register("tickets.sla_warning.v1")
class SlaWarningV1(_TicketAlert):
    target = fields.String(required=True, validate=validate.OneOf(SLA_TARGETS))
    due_at = fields.AwareDateTime(required=True)


@REGISTRY.register("tickets.sla_breached.v1")
class SlaBreachedV1(SlaWarningV1):
    pass


@REGISTRY.register("tickets.ticket_escalated.v1")
class TicketEscalatedV1(_TicketAlert):
    rule = fields.String(required=True)
    actions = fields.List(fields.String(), required=True)


@REGISTRY.register("tickets.maintenance_scheduled.v1")
class MaintenanceScheduledV1(Schema):
    """P-EMPATHY: a maintenance window agreed with the affected customers."""

    maintenance_id = fields.Integer(required=True, validate=validate.Range(min=1))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    details = fields.String(load_default="")
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    customer_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1)),
        required=True,
        validate=validate.Length(min=1),
    )


@REGISTRY.register("tickets.maintenance_cancelled.v1")
class MaintenanceCancelledV1(Schema):
    maintenance_id = fields.Integer(required=True, validate=validate.Range(min=1))


# -- training ------------------------------------------------------------------------


@REGISTRY.register("training.playbook_published.v1")
class PlaybookPublishedV1(Schema):
    """A new version of a lesson or script is in force (imported from the files or edited)."""

    playbook_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    kind = fields.String(required=True, validate=validate.OneOf(("lesson", "script")))
    rules = fields.List(fields.String(), required=True)
    situation = fields.String(allow_none=True, load_default=None)
    author = fields.String(required=True)


@REGISTRY.register("training.trainee_enrolled.v1")
class TraineeEnrolledV1(Schema):
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    share_held = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    """Percent of the trainee's replies the desk holds for review."""


@REGISTRY.register("training.review_policy_changed.v1")
class ReviewPolicyChangedV1(TraineeEnrolledV1):
    reason = fields.String(required=True)


@REGISTRY.register("training.trainee_certified.v1")
class TraineeCertifiedV1(Schema):
    """The desk stops holding this person's replies."""

    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    certified_at = fields.AwareDateTime(required=True)


@REGISTRY.register("training.certification_revoked.v1")
class CertificationRevokedV1(Schema):
    """The owner confirmed that repeated blocking findings send this person back under
    supervision: the desk holds their replies again, in the share given."""

    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    share_held = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    reason = fields.String(required=True)
    confirmed_by = fields.String(required=True)


@REGISTRY.register("training.checker_tuned.v1")
class CheckerTunedV1(Schema):
    """The owner tuned a reply check: the desk applies the same checks before a send."""

    check_key = fields.String(required=True)
    overrides = fields.Dict(required=True)
    """Any of ``severity``, ``phrases`` (lists by language or role), ``numbers``."""
    updated_by = fields.String(required=True)


@REGISTRY.register("training.script_suggested.v1")
class ScriptSuggestedV1(Schema):
    """The script that fits a ticket's situation, for the desk to show beside it."""

    ticket_id = fields.Integer(required=True, validate=validate.Range(min=1))
    customer_id = fields.Integer(allow_none=True, load_default=None)
    playbook_id = fields.String(required=True)
    situation = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    reason = fields.String(required=True)
    """Why this script, in staff's words (e.g. whether the one grace was already used)."""


@REGISTRY.register("notify.notification_sent.v1")
class NotificationSentV1(Schema):
    notification_id = fields.Integer(required=True)
    source_event_id = fields.String(required=True)
    source_event_type = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(("email", "sms", "chat")))
    customer_id = fields.Integer(allow_none=True, load_default=None)
    sent_at = fields.AwareDateTime(required=True)


@REGISTRY.register("tickets.report_reply_arrived.v1")
class ReportReplyArrivedV1(Schema):
    """An email to a periodic report's reply address reached the desk's inbound listener;
    notify, which wrote the report, reads the customer's comments out of it."""

    recipient = fields.String(required=True)
    sender = fields.Email(required=True)
    subject = fields.String(load_default="")
    text = fields.String(required=True)
    in_reply_to = fields.String(allow_none=True, load_default=None)
    references = fields.String(allow_none=True, load_default=None)


@REGISTRY.register("notify.report_reply_received.v1")
class ReportReplyReceivedV1(Schema):
    """P-REPORT: a managed customer answered their periodic report; the desk keeps the
    comments as a note on the customer."""

    customer_id = fields.Integer(required=True, validate=validate.Range(min=1))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    comments = fields.String(required=True, validate=validate.Length(min=1))
    """The customer's own words, with the quoted report taken out."""
    received_at = fields.AwareDateTime(required=True)


@REGISTRY.register("notify.notification_failed.v1")
class NotificationFailedV1(Schema):
    notification_id = fields.Integer(required=True)
    source_event_id = fields.String(required=True)
    source_event_type = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(("email", "sms", "chat")))
    customer_id = fields.Integer(allow_none=True, load_default=None)
    reason = fields.String(required=True)
