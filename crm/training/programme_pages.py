"""HTTP for the programme pages of peer training: the list, a programme's page, its form, enrolment (with the
waiting list), withdrawal and participants."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_303_SEE_OTHER
from litestar.types import ControllerRouterHandler
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.accounts.permissions import refuse_unless, requires_login
from crm.accounts.roles import Role
from crm.assessments.models import text_in
from crm.db.base import utcnow
from crm.organisations.service import StaleVersion
from crm.training import access, permissions, service, subscribe
from crm.training.models import (
    ENROLMENT_STATUS_LABELS,
    PROGRAMME_STATUS_LABELS,
    Enrolment,
    EnrolmentStatus,
    Programme,
    ProgrammeStatus,
)
from crm.training.schemas import EnrolmentIn, ParticipantIn, ProgrammeIn, ProgrammeUpdate, WithdrawalIn
from crm.web.deps import AppSettings, Db
from crm.web.flash import flash
from crm.web.forms import FormBody, FormErrors, parse
from crm.web.i18n import N_, current_language
from crm.web.i18n import gettext as _
from crm.web.pagination import clamp_page
from crm.web.templating import is_partial, page_or_fragment

MULTI_FIELDS = ("domains", "trainers")
STALE_PROGRAMME = N_(
    "Someone else changed this programme after you opened it. Your changes were not saved: the form now shows "
    "theirs."
)
# How each status looks on a badge (crm/web/static/app.css).
STATUS_BADGES = {ProgrammeStatus.OPEN.value: "ok", ProgrammeStatus.CANCELLED.value: "bad"}


def _redirect(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """After a successful post, the page to open (htmx: HX-Redirect, so the address bar follows)."""
    if is_partial(request):
        return Response(content=None, status_code=HTTP_204_NO_CONTENT, headers={"HX-Redirect": url})
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


def _labels(db: Session) -> dict[str, Any]:
    language = current_language.get()
    domains = service.framework_domains(db)
    return {
        "status_labels": {status.value: label for status, label in PROGRAMME_STATUS_LABELS.items()},
        "status_badges": STATUS_BADGES,
        "enrolment_labels": {status.value: label for status, label in ENROLMENT_STATUS_LABELS.items()},
        "domain_choices": [(code, text_in(name, language) or code) for code, name in domains],
        "domain_names": {code: text_in(name, language) or code for code, name in domains},
    }


def _filters(params: Mapping[str, Any], domain_codes: set[str]) -> service.ProgrammeFilters:
    """Filters from the query string; anything unknown is ignored, never an error."""
    status = str(params.get("status") or "")
    domain = str(params.get("domain") or "")
    return service.ProgrammeFilters(
        status=status if status in {s.value for s in ProgrammeStatus} else None,
        domain=domain if domain in domain_codes else None,
    )


def _page_number(params: Mapping[str, Any]) -> int:
    try:
        return max(int(str(params.get("page") or 1)), 1)
    except ValueError:
        return 1


def programme_values(programme: Programme, domains: list[str], trainer_ids: set[int]) -> dict[str, Any]:
    """The form's fields as the programme stands (ids as text, as a browser sends them back)."""
    return {
        "title": programme.title,
        "description": programme.description,
        "domains": domains,
        "lead_organisation_id": ""
        if programme.lead_organisation_id is None
        else str(programme.lead_organisation_id),
        "places": programme.places,
        "status": programme.status,
        "trainers": [str(id_) for id_ in sorted(trainer_ids)],
        "version": programme.version,
    }


def _programme_input(
    user: User, form: ProgrammeIn, programme: Programme | None, trainer_ids: set[int]
) -> service.ProgrammeInput:
    """Staff choose the lead organisation and the trainers; a trainer's programme is led by their own
    organisation and run by themselves (and keeps its lead and trainers when they edit it)."""
    if user.is_staff:
        lead, trainers = form.lead_organisation_id, form.trainers
    elif programme is None:
        lead, trainers = user.represented_organisation_id, [user.id]
    else:
        lead, trainers = programme.lead_organisation_id, sorted(trainer_ids)
    return service.ProgrammeInput(
        title=form.title,
        description=form.description or "",
        domains=form.domains,
        lead_organisation_id=lead,
        places=form.places,
        status=form.status.value,
        trainers=trainers,
    )


def _unsaved(data: Mapping[str, Any]) -> str:
    """What this person sent, shown back after a conflict so that nothing they typed is lost."""
    labels = {status.value: label for status, label in PROGRAMME_STATUS_LABELS.items()}
    status = data.get("status")
    places = str(data.get("places") or "").strip()
    sent = [
        str(data.get("title") or "").strip(),
        _(labels[status]) if status in labels else "",
        _("%(places)s places") % {"places": places} if places else "",
        str(data.get("description") or "").strip()[:200],
    ]
    return _("Yours, not saved: %(values)s.") % {"values": " · ".join(v for v in sent if v) or "—"}


class ProgrammePages(Controller):
    path = "/training"
    guards = [requires_login, access.requires_a_role]

    # The list ---------------------------------------------------------------------------------------

    @get("/programmes", sync_to_thread=True)
    def programmes(self, request: Request[Any, Any, Any], db: Db) -> Template:
        labels = _labels(db)
        params = request.query_params
        filters = _filters(params, set(labels["domain_names"]))
        number, per_page = clamp_page(_page_number(params), None)
        context = {
            "page": service.programmes_page(db, request.user, filters, number, per_page),
            "filters": filters,
            "can_create": permissions.can_create_programme(request.user),
            **labels,
        }
        return page_or_fragment(
            request, "training/programmes.html", "training/partials/_programme_results.html", context
        )

    # New and edit -----------------------------------------------------------------------------------

    def _form_context(
        self,
        db: Session,
        user: User,
        programme: Programme | None,
        form: Mapping[str, Any],
        errors: Mapping[str, str],
        message: str | None = None,
    ) -> dict[str, Any]:
        lead_id = programme.lead_organisation_id if programme else user.represented_organisation_id
        return {
            "programme": programme,
            "form": form,
            "errors": errors,
            "message": message,
            "picks_people": user.is_staff,
            "organisation_choices": [(str(c.value), c.label) for c in service.organisation_choices(db, user)]
            if user.is_staff
            else [],
            "trainer_choices": [(str(c.value), c.label) for c in service.trainer_choices(db)]
            if user.is_staff
            else [],
            "lead_name": None
            if user.is_staff or lead_id is None
            else service.visible_organisation_name(db, user, lead_id),
            "status_choices": [(s.value, _(label)) for s, label in PROGRAMME_STATUS_LABELS.items()],
            **_labels(db),
        }

    def _form_again(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        programme: Programme | None,
        form: Mapping[str, Any],
        errors: Mapping[str, str],
        status_code: int,
        message: str | None = None,
    ) -> Template:
        context = self._form_context(db, request.user, programme, form, errors, message)
        return page_or_fragment(
            request,
            "training/programme_form.html",
            "training/partials/_programme_form.html",
            context,
            status_code=status_code,
        )

    @get("/programmes/new", sync_to_thread=True)
    def new_form(self, request: Request[Any, Any, Any], db: Db) -> Template:
        user = request.user
        refuse_unless(permissions.can_create_programme(user))
        own = user.represented_organisation_id
        form = {
            "status": ProgrammeStatus.PLANNED.value,
            "lead_organisation_id": "" if own is None else str(own),
            "trainers": [str(user.id)] if user.has_role(Role.TRAINER) else [],
        }
        return self._form_again(request, db, None, form, {}, 200)

    @post("/programmes/new", sync_to_thread=True)
    def create(self, request: Request[Any, Any, Any], db: Db, data: FormBody) -> Response[Any]:
        user = request.user
        refuse_unless(permissions.can_create_programme(user))
        try:
            form = parse(ProgrammeIn, data, MULTI_FIELDS)
            programme = service.add_programme(db, _programme_input(user, form, None, set()), user)
        except FormErrors as exc:
            return self._form_again(request, db, None, data, exc.errors, 422)
        except service.TrainingError as exc:
            return self._form_again(request, db, None, data, {k: _(v) for k, v in exc.errors.items()}, 422)
        flash(request, _("Programme created."))
        return _redirect(request, f"/training/programmes/{programme.id}")

    @get("/programmes/{programme_id:int}/edit", sync_to_thread=True)
    def edit_form(self, request: Request[Any, Any, Any], db: Db, programme_id: FromPath[int]) -> Template:
        programme, trainer_ids = access.runnable_programme_for(db, request.user, programme_id)
        form = programme_values(programme, service.domain_codes(db, programme.id), trainer_ids)
        return self._form_again(request, db, programme, form, {}, 200)

    @post("/programmes/{programme_id:int}/edit", sync_to_thread=True)
    def update(
        self, request: Request[Any, Any, Any], db: Db, programme_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        programme, trainer_ids = access.runnable_programme_for(db, request.user, programme_id)
        try:
            form = parse(ProgrammeUpdate, data, MULTI_FIELDS)
            changes = _programme_input(request.user, form, programme, trainer_ids)
            service.update_programme(db, programme, changes, form.version)
        except FormErrors as exc:
            return self._form_again(request, db, programme, data, exc.errors, 422)
        except service.TrainingError as exc:
            return self._form_again(
                request, db, programme, data, {k: _(v) for k, v in exc.errors.items()}, 422
            )
        except StaleVersion:
            # The form comes back with the current values (and version), so saving again is a decision.
            current = programme_values(programme, service.domain_codes(db, programme.id), trainer_ids)
            message = _(STALE_PROGRAMME) + " " + _unsaved(data)
            return self._form_again(request, db, programme, current, {}, 409, message)
        flash(request, _("Programme saved."))
        return _redirect(request, f"/training/programmes/{programme.id}")

    # A programme's page -----------------------------------------------------------------------------

    def _detail_context(
        self,
        db: Session,
        user: User,
        programme: Programme,
        trainer_ids: set[int],
        **extra: Any,
    ) -> dict[str, Any]:
        detail = service.programme_detail(db, user, programme, utcnow())
        own = user.represented_organisation_id
        runs = permissions.can_run(user, trainer_ids)
        runner_enrols = runs and permissions.can_enrol(user, programme, own or 0, trainer_ids)
        own_enrolment = detail.enrolment_of(own) if own is not None else None
        context: dict[str, Any] = {
            "programme": programme,
            "saved": None,
            "detail": detail,
            "can_run": runs,
            "own_enrolment": own_enrolment,
            "can_enrol_own": own is not None
            and own_enrolment is None
            and permissions.can_enrol(user, programme, own, trainer_ids),
            "runner_enrols": runner_enrols,
            "enrol_choices": [
                (str(c.value), c.label)
                for c in service.organisation_choices(
                    db, user, leaving_out=[e.enrolment.organisation_id for e in detail.enrolments]
                )
            ]
            if runner_enrols
            else [],
            "enrol_form": {},
            "enrol_errors": {},
            "participant_forms": {},
            "withdrawing": None,
            "message": None,
            **_labels(db),
        }
        context.update(extra)
        return context

    def _detail_again(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        programme: Programme,
        trainer_ids: set[int],
        status_code: int,
        **extra: Any,
    ) -> Template:
        context = self._detail_context(db, request.user, programme, trainer_ids, **extra)
        return Template("training/programme.html", context=context, status_code=status_code)

    @get("/programmes/{programme_id:int}", sync_to_thread=True)
    def programme(
        self, request: Request[Any, Any, Any], db: Db, settings: AppSettings, programme_id: FromPath[int]
    ) -> Template:
        programme, trainer_ids = access.programme_with_trainers_for(db, request.user, programme_id)
        base = subscribe.public_base(str(request.base_url), settings.https)
        feed = subscribe.subscribe_context(
            db, base, settings.secret_key, request.user, "programme", programme.id
        )
        return self._detail_again(request, db, programme, trainer_ids, 200, subscribe=feed)

    @post("/programmes/{programme_id:int}/enrolments", sync_to_thread=True)
    def enrol(
        self, request: Request[Any, Any, Any], db: Db, programme_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        user = request.user
        programme, trainer_ids = access.programme_with_trainers_for(db, user, programme_id)
        runs = permissions.can_run(user, trainer_ids)
        if runs:
            # Staff and trainers name the organisation, among those the directory shows them.
            try:
                form = parse(EnrolmentIn, data)
                chosen = form.organisation_id
                organisation = service.visible_organisation(db, user, chosen) if chosen else None
                if organisation is None:
                    raise FormErrors({"organisation_id": _(service.UNKNOWN_ORGANISATION)})
            except FormErrors as exc:
                return self._detail_again(
                    request, db, programme, trainer_ids, 422, enrol_form=data, enrol_errors=exc.errors
                )
            organisation_id, name = organisation.id, organisation.name
        else:
            own = user.represented_organisation_id
            refuse_unless(own is not None and permissions.can_enrol(user, programme, own, trainer_ids))
            organisation_id, name = own, service.visible_organisation_name(db, user, own)
        if not permissions.can_enrol(user, programme, organisation_id, trainer_ids):
            message = _("This programme is closed: no organisation enrols in it any more.")
            return self._detail_again(request, db, programme, trainer_ids, 409, message=message)
        enrolment = service.enrol(db, programme, organisation_id)
        if enrolment.status == EnrolmentStatus.WAITING:
            flash(
                request,
                _("The places are taken: %(name)s is on the waiting list.") % {"name": name},
                level="warning",
            )
        else:
            flash(request, _("%(name)s is enrolled.") % {"name": name})
        return _redirect(request, f"/training/programmes/{programme.id}#enrolments")

    @post("/enrolments/{enrolment_id:int}/withdraw", sync_to_thread=True)
    def withdraw(
        self, request: Request[Any, Any, Any], db: Db, enrolment_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        user = request.user
        enrolment, programme, trainer_ids = access.enrolment_for(db, user, enrolment_id)
        url = f"/training/programmes/{programme.id}#enrolments"
        if enrolment.status == EnrolmentStatus.WITHDRAWN:
            flash(request, _("This organisation had already withdrawn."), level="info")
            return _redirect(request, url)
        try:
            confirmed = parse(WithdrawalIn, data).confirmed
        except FormErrors:
            confirmed = False
        if not confirmed:
            return self._detail_again(request, db, programme, trainer_ids, 200, withdrawing=enrolment)
        name = service.enrolment_name(db, user, enrolment) or _("The organisation")
        promoted = service.withdraw(db, programme, enrolment)
        flash(request, self._withdrawn_message(db, user, name, promoted))
        return _redirect(request, url)

    def _withdrawn_message(self, db: Session, user: User, name: str, promoted: Enrolment | None) -> str:
        message = _("%(name)s has withdrawn from the programme.") % {"name": name}
        if promoted is None:
            return message
        successor = service.enrolment_name(db, user, promoted)
        if successor is None:
            return message + " " + _("The first organisation on the waiting list takes the freed place.")
        return (
            message
            + " "
            + _("%(name)s, first on the waiting list, takes the freed place.") % {"name": successor}
        )

    @post("/enrolments/{enrolment_id:int}/participants", sync_to_thread=True)
    def add_participant(
        self, request: Request[Any, Any, Any], db: Db, enrolment_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        enrolment, programme, trainer_ids = access.enrolment_for(db, request.user, enrolment_id)
        try:
            form = parse(ParticipantIn, data)
            service.add_participant_to(db, enrolment, form.user_id, form.full_name)
        except FormErrors as exc:
            return self._participant_again(request, db, programme, trainer_ids, enrolment, data, exc.errors)
        except service.TrainingError as exc:
            errors = {k: _(v) for k, v in exc.errors.items()}
            return self._participant_again(request, db, programme, trainer_ids, enrolment, data, errors)
        if is_partial(request):
            context = self._detail_context(db, request.user, programme, trainer_ids, saved=enrolment.id)
            return Template("training/partials/_programme_enrolments.html", context=context)
        flash(request, _("Participant added."))
        return _redirect(request, f"/training/programmes/{programme.id}#enrolment-{enrolment.id}")

    def _participant_again(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        programme: Programme,
        trainer_ids: set[int],
        enrolment: Enrolment,
        form: Mapping[str, Any],
        errors: Mapping[str, str],
    ) -> Template:
        forms = {enrolment.id: {"form": form, "errors": errors}}
        context = self._detail_context(db, request.user, programme, trainer_ids, participant_forms=forms)
        return page_or_fragment(
            request,
            "training/programme.html",
            "training/partials/_programme_enrolments.html",
            context,
            status_code=422,
        )


HANDLERS: list[ControllerRouterHandler] = [ProgrammePages]
