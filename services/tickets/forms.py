from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, ValidationError

from services.tickets.maintenance import MAX_DETAILS, MAX_TITLE
from services.tickets.staff import MIN_PASSWORD_LENGTH

LOCAL_MINUTE = "%Y-%m-%dT%H:%M"
"""What a browser's date and time field sends: the company's clock, to the minute."""
NO_TITLE = "Say what the maintenance is: customers read the title first."
TITLE_TOO_LONG = f"A title is at most {MAX_TITLE} characters."
DETAILS_TOO_LONG = f"The details are at most {MAX_DETAILS} characters."
NOT_A_MOMENT = "Give a date and a time."
NO_CUSTOMERS = "Choose the customers the maintenance affects."
NOT_A_CUSTOMER = "Choose the customers from the list."
ENDS_BEFORE_START = "The window ends after it starts."


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])


class OwnerSetupForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", "The passwords differ.")],
    )


class MaintenanceForm(FlaskForm):
    """A maintenance window as staff write it, its start and end on the company's clock."""

    title = StringField(
        "Title",
        validators=[DataRequired(NO_TITLE), Length(max=MAX_TITLE, message=TITLE_TOO_LONG)],
        filters=[_stripped],
    )
    details = TextAreaField(
        "Details",
        validators=[Length(max=MAX_DETAILS, message=DETAILS_TOO_LONG)],
        filters=[_stripped],
    )
    starts_at = DateTimeLocalField(
        "Starts",
        format=LOCAL_MINUTE,
        invalid_value_message=NOT_A_MOMENT,
        validators=[InputRequired(NOT_A_MOMENT)],
    )
    ends_at = DateTimeLocalField(
        "Ends",
        format=LOCAL_MINUTE,
        invalid_value_message=NOT_A_MOMENT,
        validators=[InputRequired(NOT_A_MOMENT)],
    )
    # The desk's replicas are the choices: the service names any customer it does not
    # know, so thousands of them need not be compared here one by one.
    customer_ids = SelectMultipleField(
        "Customers",
        coerce=int,
        validate_choice=False,
        invalid_value_message=NOT_A_CUSTOMER,
        validators=[InputRequired(NO_CUSTOMERS)],
    )
    short_notice_ok = BooleanField("Announce it at once")

    def validate_ends_at(self, field: DateTimeLocalField) -> None:
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(ENDS_BEFORE_START)
