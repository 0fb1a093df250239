"""The forms of billing's staff pages; amounts are typed the way staff write them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from services.billing.accounts import CURRENCIES
from services.billing.models import LANGUAGES

LANGUAGE_NAMES = {"pt-BR": "Português (Brasil)", "es": "Español", "en": "English"}


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
        raise ValueError(f"{text!r} is not an amount.") from None
    if value <= 0:
        raise ValueError("The amount must be more than zero.")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("Amounts have at most two decimals.")
    return int(value * 100)


class PaymentForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired()])
    invoice_id = SelectField("Invoice", coerce=int, validators=[Optional()])
    method = SelectField(
        "Method",
        choices=[
            SelectChoice("pix", "PIX"),
            SelectChoice("boleto", "Boleto"),
            SelectChoice("transfer", "Bank transfer"),
            SelectChoice("card", "Card"),
            SelectChoice("cash", "Cash"),
        ],
    )

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
    action = SelectField(
        "Action",
        choices=[SelectChoice("recheck", "Check again"), SelectChoice("void", "Void")],
    )


class CancellationForm(FlaskForm):
    subscription_id = SelectField("Subscription", coerce=int)
    when = SelectField(
        "When",
        choices=[
            SelectChoice("period_end", "At the end of the paid period"),
            SelectChoice("now", "At once"),
        ],
    )
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
            raise ValidationError(f"{field.data!r} is not a timezone, e.g. America/Mexico_City.")


class SubscriptionForm(FlaskForm):
    plan_id = SelectField("Plan", coerce=int)
    start = DateField("First period starts", validators=[DataRequired()])
