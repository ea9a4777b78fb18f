"""The back office's forms. CSRF tokens come with every form that posts (Flask-WTF)."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from kiosk_app.charging.states import State
from kiosk_app.models.operator import ROLES
from kiosk_app.operator.access import ACTIONS, MAX_PASSWORD_LENGTH

_ID = "Use letters, digits and * . _ : - only."


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class NewPasswordMixin:
    password = PasswordField("New password", validators=[DataRequired()])
    password_repeat = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )


class NewUserForm(NewPasswordMixin, FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    role = SelectField("Role", choices=[SelectChoice(role, role.capitalize()) for role in ROLES])


class PasswordResetForm(NewPasswordMixin, FlaskForm):
    pass


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: the button that confirms an action."""


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search by GET changes nothing

    actor = StringField("Actor", validators=[Optional(), Length(max=80)])
    action = SelectField(
        "Action",
        choices=[SelectChoice("", "Any action")]
        + [SelectChoice(*item) for item in ACTIONS.items()],
        validators=[Optional()],
    )
    target_type = StringField("Target type", validators=[Optional(), Length(max=32)])
    target_id = StringField("Target id", validators=[Optional(), Length(max=64)])
    since = DateField("From (UTC date)", validators=[Optional()])
    until = DateField("To (UTC date)", validators=[Optional()])


def _minor_units(text: str | None) -> int | None:
    """'12.50' or '12,50' → 1250 (two decimals: the back office's currencies are EUR and SEK)."""
    if not text:
        return None
    cleaned = text.strip().replace(",", ".")
    if not re.fullmatch(r"\d{1,7}(\.\d{1,2})?", cleaned):
        raise ValidationError("Give an amount like 12.50.")
    return int((Decimal(cleaned) * 100).to_integral_value())


class AmountField(StringField):
    """An amount in major units, read as integer minor units into `minor`."""

    minor: int | None = None

    def pre_validate(self, form: object) -> None:
        self.minor = _minor_units(self.data)


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search by GET changes nothing

    since = DateField("From (local date)", validators=[Optional()])
    until = DateField("To (local date)", validators=[Optional()])
    evse = StringField(
        "EVSE",
        validators=[Optional(), Length(max=36), Regexp(r"^[A-Za-z0-9*._:-]+$", message=_ID)],
    )
    amount = AmountField("Amount", validators=[Optional()])
    last4 = StringField(
        "Last four card digits",
        validators=[Optional(), Regexp(r"^\d{4}$", message="Give exactly four digits.")],
    )

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date must not be before the start date.")


class TransactionFilterForm(SearchForm):
    kiosk = SelectField("Kiosk", validators=[Optional()])
    state = SelectField(
        "State",
        choices=[SelectChoice("", "Any state")] + [SelectChoice(s.value, s.value) for s in State],
        validators=[Optional()],
    )
    code = StringField("Session code", validators=[Optional(), Length(max=8)])


class ReceiptFilterForm(SearchForm):
    number = StringField(
        "Receipt number",
        validators=[
            Optional(),
            Regexp(r"^([A-Za-z0-9]{1,32}-)?\d{1,12}$", message="Give a number like K1-000042."),
        ],
    )


class ExportForm(FlaskForm):
    class Meta:
        csrf = False  # a download by GET changes nothing (it is audited all the same)

    since = DateField("From (local date)", validators=[DataRequired()])
    until = DateField("To (local date)", validators=[DataRequired()])
    format = SelectField(
        "Format", choices=[SelectChoice("csv", "CSV"), SelectChoice("json", "JSON")]
    )

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date must not be before the start date.")


class NoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=500)])


class RefundForm(FlaskForm):
    """An operator records a refund executed at the acquirer (merchant portal)."""

    amount = AmountField("Amount refunded", validators=[DataRequired()])
    acquirer_reference = StringField(
        "Acquirer's refund reference",
        validators=[DataRequired(), Length(max=64), Regexp(r"^[ -~]+$", message="Use ASCII only.")],
    )
    confirmed = BooleanField(
        "I refunded this amount to the card at the acquirer.",
        validators=[DataRequired(message="Confirm that the refund was made at the acquirer.")],
    )

    def validate_amount(self, field: AmountField) -> None:
        if field.minor is not None and field.minor <= 0:
            raise ValidationError("The amount must be more than 0.")
