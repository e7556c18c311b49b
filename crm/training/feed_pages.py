"""HTTP for calendar feeds: `/calendars/<secret>/sessions.ics`, read by calendar apps that do not sign in.

The secret names a feed token (crm.training.service.feed_token); the feed holds what its owner may see when it
is read. Clients poll: the ETag and Last-Modified come from one cheap query, and a conditional GET that finds
nothing new is answered 304 before any session is read. Never compressed (Outlook's subscriptions fail on
gzip), CRLF and folded lines (crm.training.ics)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from crm.db.base import utcnow
from crm.training import ics, permissions, service
from crm.web.deps import AppSettings, Db
from crm.web.i18n import in_language

# Litestar adds "; charset=utf-8" to text media types itself.
CALENDAR_MEDIA_TYPE = "text/calendar"


def _not_modified(request: Request[Any, Any, Any], etag: str, last_modified: datetime | None) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        return etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    try:
        seen = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    return seen.tzinfo is not None and last_modified.replace(microsecond=0) <= seen


class CalendarFeedController(Controller):
    path = "/calendars"
    include_in_schema = False

    @get("/{secret:str}/sessions.ics", sync_to_thread=True)
    def feed(
        self, request: Request[Any, Any, Any], db: Db, settings: AppSettings, secret: FromPath[str]
    ) -> Response[bytes]:
        found = service.feed_of(db, settings.secret_key, secret)
        if found is None or not permissions.holds_feeds(found[1]):
            raise NotFoundException()
        token, owner = found
        now = utcnow()
        version = service.feed_version(db, owner, token, now)
        etag = f'"{version.etag}"'
        headers = {"ETag": etag, "Cache-Control": "private, max-age=0, no-transform"}
        if version.last_modified is not None:
            headers["Last-Modified"] = format_datetime(version.last_modified.astimezone(UTC), usegmt=True)
        if _not_modified(request, etag, version.last_modified):
            return Response(b"", status_code=304, headers=headers)
        base = str(request.base_url).rstrip("/")
        with in_language(owner.language or settings.default_language):
            name = service.feed_name(db, owner, token)
            events = [
                ics.FeedEvent(
                    series=item.series,
                    summary=f"{item.title} · {item.programme_title}",
                    description=item.programme_description,
                    location=item.place,
                    url=f"{base}/training/programmes/{item.programme_id}",
                    sequence=item.sequence,
                    last_modified=item.updated_at,
                    created=item.created_at,
                    cancelled=item.cancelled,
                )
                for item in service.feed_series(db, owner, token, now)
            ]
        body = ics.calendar(name, events, now, calendar_url=f"{base}{request.url.path}")
        return Response(body, media_type=CALENDAR_MEDIA_TYPE, headers=headers)


HANDLERS: list[ControllerRouterHandler] = [CalendarFeedController]
