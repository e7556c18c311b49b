"""Form input: parse urlencoded bodies with pydantic and turn its errors into translated field messages."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from litestar.params import URLEncodedBody
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError

from crm.web.i18n import N_, gettext

FormBody = URLEncodedBody[dict[str, Any]]
M = TypeVar("M", bound=BaseModel)

ERROR_MESSAGES = {
    "missing": N_("This field is required."),
    "string_type": N_("This field is required."),
    "too_short": N_("Choose at least one."),
    "too_long": N_("Too many entries."),
    "list_type": N_("Choose at least one."),
    "string_too_short": N_("This field is required."),
    "string_too_long": N_("This value is too long."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "greater_than_equal": N_("This number is too small."),
    "less_than_equal": N_("This number is too large."),
    "literal_error": N_("Choose one of the options."),
    "enum": N_("Choose one of the options."),
    "bool_parsing": N_("Choose yes or no."),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_parsing": N_("Enter a date as YYYY-MM-DD."),
    "url_parsing": N_("Enter a full web address, starting with https://."),
    "url_scheme": N_("Enter a full web address, starting with https://."),
    "value_error": N_("This value is not valid."),
}


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "__all__"
        if field in errors:
            continue
        errors[field] = _message(error)
    return errors


def _message(error: Any) -> str:
    return gettext(message_id(error))


def message_id(error: Any) -> str:
    """The message (an N_ string, translated where shown) for one of pydantic's errors."""
    if error["type"] == "value_error":
        custom = str(error.get("ctx", {}).get("error", ""))
        if "email" in str(error.get("msg", "")).lower():
            return INVALID_EMAIL
        # Our validators raise N_ strings, which the catalog knows; library messages are not shown raw.
        return custom if custom in OWN_MESSAGES else NOT_VALID
    return ERROR_MESSAGES.get(error["type"], NOT_VALID)


OWN_MESSAGES: set[str] = set()


def own_message(message: str) -> str:
    """Register a validator message as safe to show (and mark it for translation)."""
    OWN_MESSAGES.add(message)
    return message


INVALID_EMAIL = N_("Enter a valid email address.")
NOT_VALID = ERROR_MESSAGES["value_error"]


# Field types whose rule every form and API body shares: stated here once.

# Dates people plan or record: a typing slip (0001-01-01, 9999-12-31) is refused rather than shown as "overdue".
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2099, 12, 31)
IMPLAUSIBLE_DATE = own_message(N_("Enter a date between 2000 and 2099."))


def _plausible(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(IMPLAUSIBLE_DATE)
    return value


PlausibleDate = Annotated[date, AfterValidator(_plausible)]

# A title or a name: one line (a line break would be shown as a space, or break a calendar file).
LINE_BREAK_FOUND = own_message(N_("Write this on one line."))


def _one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError(LINE_BREAK_FOUND)
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]

# The version of a record the client read (optimistic locking): a whole number, never true or false (JSON's
# booleans would otherwise pass as 1 and 0).
NOT_A_VERSION = own_message(N_("Send the version you read, a whole number."))


def _no_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(NOT_A_VERSION)
    return value


Version = Annotated[int, BeforeValidator(_no_boolean), Field(ge=1, le=2_147_483_647)]


def clean(form: dict[str, Any], multi: tuple[str, ...] = ()) -> dict[str, Any]:
    """Blank strings become None and listed fields become lists, as browsers send them."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        if key == "_csrf_token":
            continue
        if key in multi:
            values = value if isinstance(value, list) else [value]
            out[key] = [v for v in values if v not in ("", None)]
        elif isinstance(value, str):
            stripped = value.strip()
            out[key] = stripped if stripped else None
        else:
            out[key] = value
    for key in multi:
        out.setdefault(key, [])
    return out


def parse(model: type[M], form: dict[str, Any], multi: tuple[str, ...] = ()) -> M:
    try:
        return model.model_validate(clean(form, multi))
    except ValidationError as exc:
        raise FormErrors(field_errors(exc)) from None
