"""The forms of billing's staff pages; amounts are typed the way staff write them.

The pages show each field's label and options in the staff member's language, as
``field.<name>`` and ``choice.<group>.<value>`` in ``services.billing.staff_words``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from services.billing.accounts import CURRENCIES
from services.billing.models import LANGUAGES
from services.billing.staff_words import choices_of, say

LANGUAGE_NAMES = {"pt-BR": "Português (Brasil)", "es": "Español", "en": "English"}
"""Each customer language in its own words, whichever language the page speaks."""
PAYMENT_METHODS = ("pix", "boleto", "transfer", "card", "cash")


def parse_amount(text: str) -> int:
    """``"1.234,56"`` or ``"1234.56"`` into minor units; no negatives, no fractions of a cent."""
    cleaned = text.strip().replace(" ", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")  # 1.234,56 (Brazilian style)
    elif "," in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(say("form.not_an_amount", text=repr(text))) from None
    if value <= 0:
        raise ValueError(say("form.not_positive"))
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(say("form.cents"))
    return int(value * 100)


class PaymentForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired()])
    invoice_id = SelectField("Invoice", coerce=int, validators=[Optional()])
    method = SelectField("Method", choices=choices_of("method", PAYMENT_METHODS))

    def validate_amount(self, field: StringField) -> None:
        try:
            parse_amount(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None


class GraceForm(FlaskForm):
    subscription_id = SelectField("Subscription", coerce=int)
    pay_by = DateField("The customer will pay by", validators=[DataRequired()])
    owner_override = BooleanField("Owner override: grant a second grace")
    note = TextAreaField("Note (required for an override)", validators=[Length(max=2000)])


class ReviewForm(FlaskForm):
    action = SelectField("Action", choices=choices_of("review", ("recheck", "void")))


class CancellationForm(FlaskForm):
    subscription_id = SelectField("Subscription", coerce=int)
    when = SelectField("When", choices=choices_of("when", ("period_end", "now")))
    reason = TextAreaField(
        "Reason the customer gave", validators=[DataRequired(), Length(max=2000)]
    )


class CustomerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Billing email", validators=[DataRequired(), Email()])
    language = SelectField(
        "Language", choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
    )
    timezone = StringField("Timezone", default="America/Sao_Paulo", validators=[DataRequired()])
    currency = SelectField("Currency", choices=[SelectChoice(code, code) for code in CURRENCIES])
    managed = BooleanField("Managed customer (check-ins and periodic reports)")

    def validate_timezone(self, field: StringField) -> None:
        if field.data not in available_timezones():
            raise ValidationError(say("form.not_a_timezone", zone=repr(field.data)))


class SubscriptionForm(FlaskForm):
    plan_id = SelectField("Plan", coerce=int)
    start = DateField("First period starts", validators=[DataRequired()])
