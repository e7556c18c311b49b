"""HTTP for sessions: scheduling a session or a weekly series, one occurrence's page with its edits ("this
occurrence", "this and following", "the whole series") and cancellations, and a series' "add to calendar"
file. The rules are crm.training.schedule's; here only parsing, access and rendering."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.types import ControllerRouterHandler
from sqlalchemy.orm import Session

from crm.accounts.permissions import refuse_unless, requires_login
from crm.db.base import utcnow
from crm.organisations.service import StaleVersion
from crm.training import access as training_access
from crm.training import ics, permissions, schedule
from crm.training.calendar_pages import CALENDAR_MEDIA_TYPE, formatting
from crm.training.models import Programme
from crm.training.service import TrainingError
from crm.web.api import MAX_ID
from crm.web.deps import Db
from crm.web.flash import flash
from crm.web.forms import FormBody, FormErrors, parse
from crm.web.i18n import N_, current_time_zone
from crm.web.i18n import gettext as _

STALE_SERIES = N_(
    "Someone else changed this series after you opened it. Nothing was saved: check the session as it is now "
    "and send your changes again."
)
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)


def series_for(db: Session, user: Any, series_id: int) -> schedule.SeriesAccess:
    """A series whose programme this person may see, or 404."""
    found = schedule.series_seen(db, user, series_id) if series_id <= MAX_ID else None
    if found is None:
        raise NotFoundException()
    return found


def occurrence_for(db: Session, access: schedule.SeriesAccess, start: str) -> Any:
    """The occurrence an address names by its original local start; a malformed or unknown one is 404."""
    original = schedule.parse_occurrence_key(start)
    occurrence = schedule.occurrence_of(db, access.series, original) if original is not None else None
    if occurrence is None:
        raise NotFoundException()
    return occurrence


def _translated(errors: dict[str, str]) -> dict[str, str]:
    return {field: _(message) for field, message in errors.items()}


def _weekday_choices() -> list[tuple[str, str]]:
    return [(str(day), _(name)) for day, name in enumerate(WEEKDAYS)]


def _new_form_context(
    programme: Programme, form: dict[str, Any], errors: dict[str, str], **extra: Any
) -> dict[str, Any]:
    own_zone = current_time_zone.get()
    return {
        "programme": programme,
        "form": form,
        "errors": errors,
        "zones": schedule.time_zone_choices(str(form.get("tz") or own_zone)),
        "weekday_choices": _weekday_choices(),
        "clashes": [],
        "message": None,
        **formatting(),
        **extra,
    }


def _occurrence_url(series_id: int, original: Any) -> str:
    return f"/training/sessions/{series_id}/occurrences/{schedule.occurrence_key(original)}"


class SeriesController(Controller):
    path = "/training"
    guards = [requires_login]

    @get("/programmes/{programme_id:int}/sessions/new", sync_to_thread=True)
    def new_series(self, request: Request[Any, Any, Any], db: Db, programme_id: FromPath[int]) -> Template:
        programme, _trainers = training_access.runnable_programme_for(db, request.user, programme_id)
        today = schedule.today_in(current_time_zone.get())
        form = {
            "title": "",
            "date": today.isoformat(),
            "start_time": "18:00",
            "end_time": "19:30",
            "tz": current_time_zone.get(),
            "weekdays": [str(today.weekday())],
            "interval": 1,
            "ends": "count",
            "count": 6,
        }
        return Template("training/series_new.html", context=_new_form_context(programme, form, {}))

    @post("/programmes/{programme_id:int}/sessions/new", sync_to_thread=True)
    def create_series(
        self, request: Request[Any, Any, Any], db: Db, programme_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        programme, _trainers = training_access.runnable_programme_for(db, request.user, programme_id)
        try:
            form = parse(schedule.SessionIn, data, multi=("weekdays",))
            series_input = form.to_input()
        except FormErrors as exc:
            return self._again(programme, data, exc.errors, 422)
        except TrainingError as exc:
            return self._again(programme, data, _translated(exc.errors), 422)
        if not form.schedule_anyway:
            clashes = schedule.clashes(
                db, request.user, programme.id, schedule.planned_series(series_input), utcnow()
            )
            if clashes:
                return self._again(programme, data, {}, 200, clashes=clashes)
        series = schedule.create(db, programme, series_input)
        flash(request, _("Session scheduled."))
        return Redirect(_occurrence_url(series.id, series.start_local), status_code=HTTP_303_SEE_OTHER)

    def _again(
        self, programme: Programme, form: dict[str, Any], errors: dict[str, str], status: int, **extra: Any
    ) -> Template:
        context = _new_form_context(programme, form, errors, **extra)
        return Template("training/series_new.html", context=context, status_code=status)

    # One occurrence -----------------------------------------------------------------------------------

    @get("/sessions/{series_id:int}/occurrences/{start:str}", sync_to_thread=True)
    def occurrence(
        self, request: Request[Any, Any, Any], db: Db, series_id: FromPath[int], start: FromPath[str]
    ) -> Template:
        access = series_for(db, request.user, series_id)
        occurrence = occurrence_for(db, access, start)
        return Template("training/occurrence.html", context=self._context(request, db, access, occurrence))

    def _context(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        access: schedule.SeriesAccess,
        occurrence: Any,
        forms: dict[str, dict[str, Any]] | None = None,
        errors: dict[str, dict[str, str]] | None = None,
        message: str | None = None,
        confirming: str | None = None,
    ) -> dict[str, Any]:
        series = access.series
        shown = schedule.shown(series, access.programme, occurrence, current_time_zone.get())
        whole = schedule.form_values(series)
        defaults = {
            "move": {
                "date": occurrence.start.date().isoformat(),
                "start_time": occurrence.start.strftime("%H:%M"),
                "end_time": occurrence.end.strftime("%H:%M"),
            },
            "following": {
                "title": series.title,
                "start_time": occurrence.start.strftime("%H:%M"),
                "end_time": occurrence.end.strftime("%H:%M"),
                "location": series.location,
                "online_url": series.online_url,
                "version": series.version,
            },
            "series": whole,
        }
        defaults.update(forms or {})
        return {
            "series": series,
            "programme": access.programme,
            "occurrence": shown,
            "key": schedule.occurrence_key(occurrence.original_start),
            "base": f"/training/sessions/{series.id}",
            "can_run": permissions.can_run(request.user, access.trainer_ids) and series.cancelled_at is None,
            "is_first": occurrence.original_start == series.start_local or not series.weekdays,
            "forms": defaults,
            "errors": errors or {},
            "message": message,
            "confirming": confirming,
            "zones": schedule.time_zone_choices(series.tz),
            "weekday_choices": _weekday_choices(),
            **formatting(),
        }

    def _run(self, request: Request[Any, Any, Any], db: Session, series_id: int, start: str | None) -> Any:
        access = series_for(db, request.user, series_id)
        refuse_unless(permissions.can_run(request.user, access.trainer_ids))
        occurrence = occurrence_for(db, access, start) if start is not None else None
        return access, occurrence

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        access: schedule.SeriesAccess,
        occurrence: Any,
        status: int,
        **extra: Any,
    ) -> Template:
        context = self._context(request, db, access, occurrence, **extra)
        return Template("training/occurrence.html", context=context, status_code=status)

    @post("/sessions/{series_id:int}/occurrences/{start:str}/move", sync_to_thread=True)
    def move(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        series_id: FromPath[int],
        start: FromPath[str],
        data: FormBody,
    ) -> Response[Any]:
        access, occurrence = self._run(request, db, series_id, start)
        try:
            form = parse(schedule.MoveIn, data)
            new_start, new_end = form.times()
            schedule.move_this(db, access.series, occurrence.original_start, new_start, new_end)
        except FormErrors as exc:
            return self._page(
                request, db, access, occurrence, 422, forms={"move": data}, errors={"move": exc.errors}
            )
        except TrainingError as exc:
            errors = {"move": _translated(exc.errors)}
            return self._page(request, db, access, occurrence, 422, forms={"move": data}, errors=errors)
        flash(request, _("This session was moved. Subscribed calendars show the new time."))
        return Redirect(_occurrence_url(series_id, occurrence.original_start), status_code=HTTP_303_SEE_OTHER)

    @post("/sessions/{series_id:int}/occurrences/{start:str}/cancel", sync_to_thread=True)
    def cancel_occurrence(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        series_id: FromPath[int],
        start: FromPath[str],
        data: FormBody,
    ) -> Response[Any]:
        access, occurrence = self._run(request, db, series_id, start)
        try:
            form = parse(schedule.ConfirmIn, data)
        except FormErrors:
            form = schedule.ConfirmIn()
        if not form.confirmed:
            return self._page(request, db, access, occurrence, 200, confirming="occurrence")
        try:
            schedule.cancel_this(db, access.series, occurrence.original_start)
        except TrainingError as exc:
            return self._page(request, db, access, occurrence, 409, message=_(exc.errors.get("__all__", "")))
        flash(request, _("This session was cancelled."))
        return Redirect(_occurrence_url(series_id, occurrence.original_start), status_code=HTTP_303_SEE_OTHER)

    @post("/sessions/{series_id:int}/occurrences/{start:str}/following", sync_to_thread=True)
    def change_following(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        series_id: FromPath[int],
        start: FromPath[str],
        data: FormBody,
    ) -> Response[Any]:
        access, occurrence = self._run(request, db, series_id, start)
        try:
            form = parse(schedule.FollowingIn, data)
            following = schedule.change_following(
                db,
                access.series,
                occurrence.original_start,
                form.start_time,
                form.end_time,
                form.title,
                form.location,
                form.online_url,
                form.version,
            )
        except FormErrors as exc:
            return self._page(
                request,
                db,
                access,
                occurrence,
                422,
                forms={"following": data},
                errors={"following": exc.errors},
            )
        except TrainingError as exc:
            errors = {"following": _translated(exc.errors)}
            return self._page(request, db, access, occurrence, 422, forms={"following": data}, errors=errors)
        except StaleVersion:
            shown = {**data, "version": access.series.version}
            return self._page(
                request, db, access, occurrence, 409, forms={"following": shown}, message=_(STALE_SERIES)
            )
        flash(request, _("This session and the following ones were changed."))
        return Redirect(_occurrence_url(following.id, following.start_local), status_code=HTTP_303_SEE_OTHER)

    @post("/sessions/{series_id:int}/edit", sync_to_thread=True)
    def change_whole(
        self, request: Request[Any, Any, Any], db: Db, series_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        access, _none = self._run(request, db, series_id, None)
        series = access.series
        first = schedule.occurrence_of(db, series, series.start_local)
        try:
            form = parse(schedule.SessionIn, data, multi=("weekdays",))
            schedule.change_whole(db, series, form.to_input(), form.version)
        except FormErrors as exc:
            return self._page(
                request, db, access, first, 422, forms={"series": data}, errors={"series": exc.errors}
            )
        except TrainingError as exc:
            errors = {"series": _translated(exc.errors)}
            return self._page(request, db, access, first, 422, forms={"series": data}, errors=errors)
        except StaleVersion:
            shown = {**data, "version": series.version}
            return self._page(
                request, db, access, first, 409, forms={"series": shown}, message=_(STALE_SERIES)
            )
        flash(request, _("The whole series was changed."))
        return Redirect(_occurrence_url(series.id, series.start_local), status_code=HTTP_303_SEE_OTHER)

    @post("/sessions/{series_id:int}/cancel", sync_to_thread=True)
    def cancel_series(
        self, request: Request[Any, Any, Any], db: Db, series_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        access, _none = self._run(request, db, series_id, None)
        series = access.series
        first = schedule.occurrence_of(db, series, series.start_local)
        try:
            form = parse(schedule.ConfirmIn, data)
        except FormErrors:
            form = schedule.ConfirmIn()
        if not form.confirmed:
            return self._page(request, db, access, first, 200, confirming="series")
        try:
            schedule.cancel_whole(db, series, form.version)
        except TrainingError as exc:
            return self._page(request, db, access, first, 409, message=_(exc.errors.get("__all__", "")))
        except StaleVersion:
            return self._page(request, db, access, first, 409, message=_(STALE_SERIES))
        flash(request, _("The whole series was cancelled."))
        return Redirect(_occurrence_url(series.id, series.start_local), status_code=HTTP_303_SEE_OTHER)

    @get("/sessions/{series_id:int}/calendar.ics", sync_to_thread=True)
    def calendar_file(
        self, request: Request[Any, Any, Any], db: Db, series_id: FromPath[int]
    ) -> Response[bytes]:
        access = series_for(db, request.user, series_id)
        base = str(request.base_url).rstrip("/")
        url = f"{base}{_occurrence_url(access.series.id, access.series.start_local)}"
        event = schedule.feed_event(db, access.series, access.programme, url)
        return Response(
            ics.single_event(event),
            media_type=CALENDAR_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="session-{access.series.id}.ics"'},
        )


HANDLERS: list[ControllerRouterHandler] = [SeriesController]
