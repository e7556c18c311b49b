"""HTTP for the training calendar (month, week and list, in the viewer's time zone, filtered by programme,
trainer or organisation; htmx swaps only the calendar region), a person's own upcoming sessions with their
subscribe panels, and the addresses of calendar feeds (a new one, or stopped)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.types import ControllerRouterHandler

from crm.accounts.permissions import requires_login
from crm.accounts.roles import Role
from crm.db.base import utcnow
from crm.training import access, schedule, subscribe
from crm.training.models import FeedScope
from crm.web.deps import AppSettings, Db
from crm.web.flash import flash
from crm.web.forms import FormBody
from crm.web.i18n import current_language, current_time_zone
from crm.web.i18n import gettext as _
from crm.web.templating import is_partial

# Litestar adds "; charset=utf-8" to text media types itself.
CALENDAR_MEDIA_TYPE = "text/calendar"
VIEWS = ("month", "week", "list")
UPCOMING = timedelta(weeks=6)


# Dates as people read them, in their language -----------------------------------------------------------


def day_text(day: date, fmt: str = "full") -> str:
    return format_date(day, format=fmt, locale=current_language.get())


def month_text(day: date) -> str:
    return format_date(day, format="LLLL y", locale=current_language.get())


def weekday_text(day: date, fmt: str = "EEE") -> str:
    return format_date(day, format=fmt, locale=current_language.get())


def hours_text(start: datetime, end: datetime) -> str:
    """18:00–19:30, with the end's day when it ends on another."""
    if end.date() != start.date():
        return f"{start:%H:%M}–{day_text(end.date(), 'medium')} {end:%H:%M}"
    return f"{start:%H:%M}–{end:%H:%M}"


def formatting() -> dict[str, Any]:
    """The date helpers every training page's template uses."""
    return {
        "day_text": day_text,
        "month_text": month_text,
        "weekday_text": weekday_text,
        "hours_text": hours_text,
    }


# The calendar ------------------------------------------------------------------------------------------


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


@dataclass(frozen=True)
class CalendarQuery:
    view: str
    day: date
    programme: int | None
    trainer: int | None
    organisation: int | None

    @classmethod
    def read(cls, params: Any, today: date) -> CalendarQuery:
        """Lenient: an unknown view is the month, a malformed date today, a malformed filter none."""
        view = params.get("view") if params.get("view") in VIEWS else "month"
        try:
            day = date.fromisoformat(params.get("date") or "")
        except ValueError:
            day = today
        if not date(2000, 1, 1) <= day <= date(2099, 12, 31):
            day = today
        return cls(
            view,
            day,
            _int_or_none(params.get("programme")),
            _int_or_none(params.get("trainer")),
            _int_or_none(params.get("organisation")),
        )

    def span(self) -> tuple[date, date]:
        """The local days shown, [first, last)."""
        if self.view == "week":
            first = self.day - timedelta(days=self.day.weekday())
            return first, first + timedelta(days=7)
        month_start = self.day.replace(day=1)
        month_end = (month_start + timedelta(days=32)).replace(day=1)
        if self.view == "list":
            return month_start, month_end
        first = month_start - timedelta(days=month_start.weekday())
        last = month_end + timedelta(days=(7 - month_end.weekday()) % 7)
        return first, last

    def moved(self, forward: bool) -> date:
        if self.view == "week":
            return self.day + timedelta(days=7 if forward else -7)
        month_start = self.day.replace(day=1)
        if forward:
            return (month_start + timedelta(days=32)).replace(day=1)
        return (month_start - timedelta(days=1)).replace(day=1)

    def url(self, **changes: Any) -> str:
        values = {
            "view": self.view,
            "date": self.day.isoformat(),
            "programme": self.programme,
            "trainer": self.trainer,
            "organisation": self.organisation,
        }
        values.update(changes)
        shown = {
            k: v.isoformat() if isinstance(v, date) else v for k, v in values.items() if v not in (None, "")
        }
        return "/training/calendar?" + urlencode(shown)


def calendar_context(db: Any, user: Any, query: CalendarQuery, today: date) -> dict[str, Any]:
    tz = current_time_zone.get()
    zone = ZoneInfo(tz)
    choices = schedule.filter_choices(db, user)
    if query.organisation not in {id_ for id_, _name in choices.organisations}:
        # An organisation the directory does not show this person filters nothing (its enrolments are its own).
        query = replace(query, organisation=None)
    first, last = query.span()
    occurrences = schedule.occurrences_between(
        db,
        user,
        datetime.combine(first, time(), zone),
        datetime.combine(last, time(), zone),
        programme_id=query.programme,
        trainer_id=query.trainer,
        organisation_id=query.organisation,
        viewer_tz=tz,
    )
    by_day: dict[date, list[schedule.ShownOccurrence]] = defaultdict(list)
    for occurrence in occurrences:
        by_day[occurrence.start.date()].append(occurrence)
    days = [first + timedelta(days=n) for n in range((last - first).days)]
    if query.view == "week":
        title = _("Week of %(day)s") % {"day": day_text(first, "long")}
    else:
        title = month_text(query.day).capitalize()
    return {
        "query": query,
        "today": today,
        "tz": tz,
        "occurrences": occurrences,
        "by_day": by_day,
        "days": days,
        "weeks": [days[n : n + 7] for n in range(0, len(days), 7)],
        "list_days": sorted(by_day),
        "title": title,
        "choices": choices,
        "previous_url": query.url(date=query.moved(False)),
        "next_url": query.url(date=query.moved(True)),
        "today_url": query.url(date=today),
        "view_urls": {view: query.url(view=view) for view in VIEWS},
        "view_labels": {"month": _("Month"), "week": _("Week"), "list": _("List")},
        **formatting(),
    }


class CalendarController(Controller):
    path = "/training"
    guards = [requires_login, access.requires_a_role]

    @get("/calendar", sync_to_thread=True)
    def calendar(self, request: Request[Any, Any, Any], db: Db) -> Template:
        today = schedule.today_in(current_time_zone.get())
        query = CalendarQuery.read(request.query_params, today)
        context = calendar_context(db, request.user, query, today)
        template = "training/partials/_calendar.html" if is_partial(request) else "training/calendar.html"
        return Template(template, context=context)

    @get("/my-calendar", sync_to_thread=True)
    def my_calendar(self, request: Request[Any, Any, Any], db: Db, settings: AppSettings) -> Template:
        user = request.user
        now = utcnow()
        base = subscribe.public_base(str(request.base_url), settings.https)
        panels = [subscribe.subscribe_context(db, base, settings.secret_key, user, FeedScope.MINE, user.id)]
        if user.has_role(Role.TRAINER):
            panels.append(
                subscribe.subscribe_context(db, base, settings.secret_key, user, FeedScope.TRAINER, user.id)
            )
        occurrences = schedule.my_occurrences(db, user, now, now + UPCOMING)
        by_day: dict[date, list[schedule.ShownOccurrence]] = defaultdict(list)
        for occurrence in occurrences:
            by_day[occurrence.start.date()].append(occurrence)
        context = {
            "by_day": by_day,
            "list_days": sorted(by_day),
            "panels": panels,
            "tz": current_time_zone.get(),
            **formatting(),
        }
        return Template("training/my_calendar.html", context=context)


def _back(next_url: Any, scope: FeedScope, scope_id: int) -> str:
    """Back to the page the panel was on: a path of this site only."""
    if isinstance(next_url, str) and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    if scope == FeedScope.PROGRAMME:
        return f"/training/programmes/{scope_id}"
    if scope == FeedScope.ORGANISATION:
        return f"/organisations/{scope_id}"
    return "/training/my-calendar"


class FeedAddressController(Controller):
    path = "/training/feeds"
    guards = [requires_login]

    def _scope(self, request: Request[Any, Any, Any], db: Any, scope: str, scope_id: int) -> FeedScope:
        found = subscribe.scope_of(scope)
        if found is None or scope_id > 2_147_483_647:
            raise NotFoundException()
        if not subscribe.may_subscribe(db, request.user, found, scope_id):
            raise NotFoundException()
        return found

    @post("/{feed_scope:str}/{scope_id:int}/renew", sync_to_thread=True)
    def renew(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        feed_scope: FromPath[str],
        scope_id: FromPath[int],
        data: FormBody,
    ) -> Response[Any]:
        scope = self._scope(request, db, feed_scope, scope_id)
        subscribe.renew(db, request.user, scope, scope_id)
        flash(
            request,
            _(
                "Your calendar has a new address. Subscribe to it in your calendar apps: the old one no longer works."
            ),
        )
        return Redirect(_back(data.get("next"), scope, scope_id), status_code=HTTP_303_SEE_OTHER)

    @post("/{feed_scope:str}/{scope_id:int}/revoke", sync_to_thread=True)
    def revoke(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        feed_scope: FromPath[str],
        scope_id: FromPath[int],
        data: FormBody,
    ) -> Response[Any]:
        scope = self._scope(request, db, feed_scope, scope_id)
        subscribe.revoke(db, request.user, scope, scope_id)
        flash(request, _("This calendar address no longer works."))
        return Redirect(_back(data.get("next"), scope, scope_id), status_code=HTTP_303_SEE_OTHER)


HANDLERS: list[ControllerRouterHandler] = [CalendarController, FeedAddressController]
