"""What every JSON API handler shares, whatever its domain: the error body and how handlers document it,
the 400 and 409 they raise, and the path and paging parameters."""

from __future__ import annotations

from typing import Annotated

from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT
from pydantic import BaseModel

from crm.web.i18n import N_, gettext
from crm.web.pagination import MAX_PER_PAGE

BEARER = [{"bearer": []}]
# Ids are 32-bit integer columns: a larger number would overflow the database driver, so it names nothing.
MAX_ID = 2_147_483_647

ObjectId = Annotated[int, PathParameter(ge=1, description="The record's id.")]
PageNumber = Annotated[int, QueryParameter(ge=1, le=MAX_ID, description="Page number, from 1.")]
PerPage = Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE, description="Items per page (1-100).")]


class ErrorField(BaseModel):
    key: str | None = None
    message: str
    source: str | None = None


class ErrorDetail(BaseModel):
    status: int
    title: str
    detail: str
    fields: list[ErrorField] | None = None


class ApiError(BaseModel):
    """Every error of the API has this body (written by crm.web.errors)."""

    error: ErrorDetail


ERROR_DESCRIPTIONS = {
    400: "Invalid parameters or body; `fields` names each one",
    401: "No valid API token in `Authorization: Bearer`",
    403: "The token's user may not do this",
    404: "No such record, or the token's user may not see it",
    409: "The record changed since the version sent, or other records still refer to it",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error responses a handler documents: always 400 and 401, and the ones it adds."""
    return {
        status: ResponseSpec(
            data_container=ApiError, description=ERROR_DESCRIPTIONS[status], generate_examples=False
        )
        for status in (400, 401, *statuses)
    }


def invalid(errors: dict[str, str], source: str) -> HTTPException:
    """A 400 whose fields read like Litestar's own validation errors: key, message, source."""
    fields = [{"key": key, "message": gettext(message), "source": source} for key, message in errors.items()]
    return HTTPException(
        status_code=HTTP_400_BAD_REQUEST, detail=gettext(N_("Some values are not valid.")), extra=fields
    )


def conflict() -> HTTPException:
    return HTTPException(status_code=HTTP_409_CONFLICT)
