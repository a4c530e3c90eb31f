"""Every error the domain can raise, and how they relate.

    HelpdeskError                     base of all our own errors
    └── Refusal                       a domain rule said no; carries a message key + params
        ├── NotFound family           AccountNotFound, SiteNotFound, ModelNotFound,
        │                             ProductNotFound, SubscriptionNotFound, IncidentNotFound
        ├── accounts / sites          InvalidEmail, InvalidCountry, InvalidPostalCode, MissingField,
        │                             AccountExists
        ├── product registration      InvalidSerial, SerialTaken, PurchaseDateInFuture,
        │                             ProductAlreadyRegistered
        ├── DAS activation            TermsNotAccepted, CodeUnknown, CodeAlreadyUsed,
        │                             CodeWrongModel, CodeExpired, ServicePurchaseDateMismatch,
        │                             ServicePurchaseDateInFuture, ServicePurchaseDateRequired,
        │                             ServiceNotForModel, ServiceAlreadyActive,
        │                             TooManyCodeAttempts
        ├── incidents                 FreeTierNoIncidents, FreeTierNoResponseTarget,
        │                             InvalidTransition, UnknownStatus, OnlyReopenAllowed,
        │                             IncidentClosed, FieldTooLong, InvalidActor
        ├── satisfaction              InvalidRating, NoSurvey, RateFirst
        ├── incidents on products     NoActiveDasService, DasServiceNotStarted
        └── imports                   ImportFailed (every bad row, with its line number)

A Refusal's `message` is an English template marked with N_() so that gettext extraction
finds it; the conversation layer translates it and formats the params (dates, numbers) for
the user's locale. `str(refusal)` gives the English text with ISO dates, for logs and the
admin CLI. Anything that is not a HelpdeskError is a bug and goes to the one error handler.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar


def N_(message: str) -> str:
    """Mark a string for translation without translating it (gettext's N_ idiom)."""
    return message


class HelpdeskError(Exception):
    pass


class Refusal(HelpdeskError):
    code: ClassVar[str] = "refused"
    message: ClassVar[str] = N_("This request was refused.")

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.render_en())

    def render_en(self) -> str:
        return self.message.format(**{k: _plain(v) for k, v in self.params.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_plain(v)) for v in value)
    return value


# --- not found -------------------------------------------------------------------------


class AccountNotFound(Refusal):
    code = "account_not_found"
    message = N_("No account uses the e-mail address {email}. Create the account first.")


class SiteNotFound(Refusal):
    code = "site_not_found"
    message = N_(
        "Site address {site_id} is not one of this account's sites. Pick one of your sites or create a new one."
    )


class ModelNotFound(Refusal):
    code = "model_not_found"
    message = N_(
        "{model} is not in the product catalogue. Check the model name on the product's label."
    )


class ProductNotFound(Refusal):
    code = "product_not_found"
    message = N_(
        "No product with serial number {serial} is registered on your account. Check the serial number, or register the product first."
    )


class SubscriptionNotFound(Refusal):
    code = "subscription_not_found"
    message = N_("Your account has no subscription to {service}. Pick one of your subscriptions.")


class IncidentNotFound(Refusal):
    code = "incident_not_found"
    message = N_(
        "There is no incident {number} on your account. Check the number (it looks like INC-000123)."
    )


# --- accounts and sites ----------------------------------------------------------------


class InvalidEmail(Refusal):
    code = "invalid_email"
    message = N_("{email} is not a valid e-mail address.")


class InvalidCountry(Refusal):
    code = "invalid_country"
    message = N_("{country} is not a country code; use two letters, e.g. FR, US or CA.")


class InvalidPostalCode(Refusal):
    code = "invalid_postal_code"
    message = N_(
        "{postal_code} is not a postal code; give the site's postal code, e.g. 69002, H2X 1Y4 or SW1A 1AA."
    )


class MissingField(Refusal):
    code = "missing_field"
    message = N_("The {field} is required.")


class AccountExists(Refusal):
    code = "account_exists"
    message = N_("An account already uses the e-mail address {email}.")


# --- product registration --------------------------------------------------------------


class InvalidSerial(Refusal):
    code = "invalid_serial"
    message = N_(
        '{serial} is not a valid serial number for {model}. Copy it from the label under the product (after "S/N"); spaces and dashes do not matter.'
    )


class SerialTaken(Refusal):
    code = "serial_taken"
    message = N_(
        "Serial number {serial} is already registered to another account. If this product is yours, contact support with your proof of purchase."
    )


class ProductAlreadyRegistered(Refusal):
    code = "product_already_registered"
    message = N_("Serial number {serial} is already registered on your account.")


class PurchaseDateInFuture(Refusal):
    code = "purchase_date_in_future"
    message = N_("The purchase date {date} is in the future. Give the date on your invoice.")


# --- DAS activation --------------------------------------------------------------------


class TermsNotAccepted(Refusal):
    code = "terms_not_accepted"
    message = N_(
        "The D-Link Assist terms and conditions must be accepted before a service can be activated."
    )


class CodeUnknown(Refusal):
    code = "code_unknown"
    message = N_(
        "Activation code {code} does not exist. Check it against the e-mail from your supplier."
    )


class CodeAlreadyUsed(Refusal):
    code = "code_already_used"
    message = N_(
        "Activation code {code} has already been used. Each code activates one service once; contact your supplier if you did not use it."
    )


class CodeWrongModel(Refusal):
    code = "code_wrong_model"
    message = N_(
        "This code is for {models} models, not {model}. Pick a product of the right model, or ask your supplier for the right code."
    )


class CodeExpired(Refusal):
    code = "code_expired"
    message = N_(
        "This code has expired: it had to be used by {deadline}, 90 days after the service purchase on {purchase_date}. Contact your supplier."
    )


class ServicePurchaseDateInFuture(Refusal):
    code = "service_purchase_date_in_future"
    message = N_(
        "The service purchase date {date} is in the future. Give the date on your invoice for the service."
    )


class ServicePurchaseDateMismatch(Refusal):
    code = "service_purchase_date_mismatch"
    message = N_(
        "The service purchase date {date} does not match the one recorded for this code. Check the date on your invoice for the service; if the invoice shows {date}, ask your supplier to correct the date they recorded."
    )


class ServiceAlreadyActive(Refusal):
    code = "service_already_active"
    message = N_("{service} is already active on {serial} until {ends_on}.")


class ServicePurchaseDateRequired(Refusal):
    code = "service_purchase_date_required"
    message = N_("Give the date you bought the service; it is on your invoice for the service.")


class ServiceNotForModel(Refusal):
    code = "service_not_for_model"
    message = N_(
        "{service} does not apply to {model} according to the product catalogue. Contact your supplier."
    )


class TooManyCodeAttempts(Refusal):
    code = "too_many_code_attempts"
    message = N_("Too many wrong activation codes. For your security, try again after {retry_at}.")


# --- incidents -------------------------------------------------------------------------


class FreeTierNoIncidents(Refusal):
    code = "free_tier_no_incidents"
    message = N_(
        "{service} is a free subscription: free subscribers get self-help (knowledge base, forums, documentation, white papers, best-practice guides) but cannot file incidents. A paid subscription includes premium support."
    )


class InvalidTransition(Refusal):
    code = "invalid_transition"
    message = N_("Incident {number} is {status}; it cannot become {target}.")


class FreeTierNoResponseTarget(Refusal):
    code = "free_tier_no_response_target"
    message = N_(
        "Free subscribers (type {type}, free tier) cannot file incidents, so there is no first-response deadline: free subscriptions come with online self-service, 24/7."
    )


class UnknownStatus(Refusal):
    code = "unknown_status"
    message = N_("{status} is not an incident status; use one of: {statuses}.")


class OnlyReopenAllowed(Refusal):
    code = "only_reopen_allowed"
    message = N_(
        "Incident {number} is {status}. You can reopen an incident once it is resolved; other status changes are made by the support team."
    )


class IncidentClosed(Refusal):
    code = "incident_closed"
    message = N_("Incident {number} is closed. File a new incident if you need more help.")


class FieldTooLong(Refusal):
    code = "field_too_long"
    message = N_("The {field} is too long: at most {limit} characters.")


class InvalidActor(Refusal):
    code = "invalid_actor"
    message = N_(
        "“{actor}” is not a staff member's name: one line of at most {limit} letters, "
        "digits, spaces and . _ @ ' -, starting with a letter."
    )


# --- imports ---------------------------------------------------------------------------


class ImportFailed(Refusal):
    """The whole file was refused; `errors` holds (line number, message) for every bad row."""

    code = "import_failed"
    message = N_("The file has errors ({count}); nothing was imported.")

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        super().__init__(count=len(errors))


# --- satisfaction ----------------------------------------------------------------------


class InvalidRating(Refusal):
    code = "invalid_rating"
    message = N_("A rating is a whole number from 1 to 5.")


class NoSurvey(Refusal):
    code = "no_survey"
    message = N_("Incident {number} has no satisfaction survey waiting for your answer.")


class RateFirst(Refusal):
    code = "rate_first"
    message = N_("Rate incident {number} first; then you can add a comment.")


# --- incidents on products -------------------------------------------------------------


class NoActiveDasService(Refusal):
    code = "no_active_das_service"
    message = N_(
        "No DAS service is active on {serial}: help on a product comes with an active DAS (D-Link Assist) service. Activate one, or ask me your question."
    )


class DasServiceNotStarted(Refusal):
    code = "das_service_not_started"
    message = N_(
        "{service} on {serial} starts on {starts_on} (two days after its activation, for the logistics behind it): you can ask for help on the product from then on."
    )
