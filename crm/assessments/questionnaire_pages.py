"""HTTP for answering assessments: an organisation's rounds, a round, the questionnaire and its autosave."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY
from pydantic import StringConstraints
from sqlalchemy.orm import Session

from crm.accounts.permissions import found, refuse_unless, requires_login
from crm.assessments import access, permissions, service
from crm.assessments.chart import score_text
from crm.assessments.models import (
    ROUND_STATUS_LABELS,
    AssessmentAnswer,
    AssessmentResponse,
    AssessmentRound,
    FrameworkIndicator,
    ResponseStatus,
    RoundStatus,
    Text18n,
    text_in,
)
from crm.assessments.schemas import AnswerIn
from crm.assessments.scoring import BAND_LABELS, LEVELS, Band
from crm.organisations import access as organisation_access
from crm.organisations import service as organisations
from crm.organisations.schemas import _Input
from crm.organisations.service import StaleVersion
from crm.web.api import MAX_ID
from crm.web.deps import Db
from crm.web.flash import flash
from crm.web.forms import FormBody, FormErrors, parse
from crm.web.i18n import N_, current_language
from crm.web.i18n import gettext as _
from crm.web.templating import is_partial

RESPONSE_STATUS_LABELS = {
    ResponseStatus.DRAFT: N_("Draft"),
    ResponseStatus.SUBMITTED: N_("Submitted"),
}
# Why a round cannot be sent for validation (service.NotReady), as the round page says it.
NOT_READY = {
    "no submitted response": N_(
        "No response has been submitted yet: at least one respondent must submit their answers before the "
        "assessment is sent for validation."
    ),
    "not open": N_("This assessment has already been sent for validation."),
}
NO_FRAMEWORK = N_(
    "No assessment framework has been loaded yet, so no assessment can start. An administrator loads one "
    "with the command “crm framework load”."
)
CLOSED = N_(
    "These answers can no longer change: they were submitted, or the assessment was sent for validation."
)


class RespondForm(_Input):
    """Beginning one's response: the role one answers in, which the officer reads beside the answers."""

    role: Annotated[str, StringConstraints(max_length=100)] | None = None


@dataclass
class IndicatorView:
    """One indicator of a step as its fieldset shows it: the answer the page holds, and what went wrong."""

    indicator: FrameworkIndicator
    number: str
    choice: str | None = None
    evidence: str | None = None
    version: int | None = None
    errors: dict[str, str] = field(default_factory=dict)
    # What this page tried to save over a newer answer from another tab or window: shown, never lost silently.
    unsaved: AnswerIn | None = None
    saved_at: datetime | None = None
    # What the page first showed, when it shows something else (the values it sent, refused).
    shown_as: str | None = None

    @property
    def shown(self) -> str:
        """The answer as this page shows it, digested: sent back untouched, it is not saved again (so an answer
        another tab changed meanwhile is not a conflict for a page that never touched it)."""
        return self.shown_as or shown_digest(self.choice, self.evidence)


def shown_digest(choice: str | None, evidence: str | None) -> str:
    return hashlib.sha256(f"{choice or ''}\x1f{evidence or ''}".encode()).hexdigest()[:16]


def _tr(value: Text18n | None) -> str:
    return text_in(value, current_language.get())


def level_names() -> list[tuple[int, str]]:
    """Each level with the name of the band it stands for (1 · Nascent … 4 · Mature), in the reader's language:
    how the questionnaire offers a level, and how the officer's validation picks one."""
    bands = list(Band)
    return [(level, _(BAND_LABELS[bands[level - 1]])) for level in LEVELS]


def _labels() -> dict[str, Any]:
    return {
        "tr": _tr,
        "number": score_text,
        "levels": level_names(),
        "band_labels": BAND_LABELS,
        "status_labels": ROUND_STATUS_LABELS,
        "response_labels": RESPONSE_STATUS_LABELS,
        "RoundStatus": RoundStatus,
        "ResponseStatus": ResponseStatus,
    }


def _view(indicator: FrameworkIndicator, number: str, answer: AssessmentAnswer | None) -> IndicatorView:
    if answer is None:
        return IndicatorView(indicator, number)
    return IndicatorView(indicator, number, answer.choice, answer.evidence, answer.version)


def _answer_form(data: dict[str, Any], indicator_id: int) -> AnswerIn:
    """One indicator's fields of a step form (named choice-ID, evidence-ID, version-ID: the autosave of one
    fieldset sends the whole form, and each handler reads its own)."""
    fields = {name: data.get(f"{name}-{indicator_id}") for name in ("choice", "evidence", "version")}
    return parse(AnswerIn, fields)


def _choice_value(form: AnswerIn) -> str | None:
    return form.choice.value if form.choice else None


def _entry(indicator: FrameworkIndicator, form: AnswerIn) -> service.AnswerEntry:
    return service.AnswerEntry(indicator, form.choice, form.evidence, form.version)


def _step_url(response: AssessmentResponse, step: int) -> str:
    return f"/assessments/responses/{response.id}/steps/{step}"


def _see_other(url: str) -> Response[Any]:
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


class QuestionnaireController(Controller):
    guards = [requires_login]

    # An organisation's rounds ----------------------------------------------------------------------------

    @get("/organisations/{organisation_id:int}/assessments", sync_to_thread=True)
    def rounds(self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int]) -> Template:
        user = request.user
        organisation = organisation_access.organisation_for(db, user, organisation_id)
        refuse_unless(permissions.can_view_rounds_of(user, organisation.id), hide=True)
        rows = service.round_rows(db, organisation.id)
        in_progress = service.round_in_progress(db, organisation.id)
        can_start = in_progress is None and permissions.can_start(user, organisation.id)
        context = {
            "org": organisation,
            "rows": rows,
            "in_progress": in_progress,
            "can_start": can_start,
            "framework": service.current_framework(db) if can_start else None,
            "no_framework": NO_FRAMEWORK,
            **_labels(),
        }
        return Template("assessments/rounds.html", context=context)

    @post("/organisations/{organisation_id:int}/assessments", sync_to_thread=True)
    def start(self, request: Request[Any, Any, Any], db: Db, organisation_id: FromPath[int]) -> Response[Any]:
        user = request.user
        organisation = organisation_access.organisation_for(db, user, organisation_id)
        refuse_unless(permissions.can_view_rounds_of(user, organisation.id), hide=True)
        refuse_unless(permissions.can_start(user, organisation.id))
        try:
            round_, new = service.open_round(db, organisation, user, date.today())
        except service.NotReady:
            flash(request, _(NO_FRAMEWORK), level="error")
            return _see_other(f"/organisations/{organisation.id}/assessments")
        if new:
            flash(request, _("Assessment started. Each representative now answers it separately."))
        else:
            flash(request, _("An assessment is already in progress: here it is."), level="info")
        return _see_other(f"/assessments/{round_.id}")

    # A round ----------------------------------------------------------------------------------------------

    @get("/assessments/{round_id:int}", sync_to_thread=True)
    def round_page(self, request: Request[Any, Any, Any], db: Db, round_id: FromPath[int]) -> Template:
        round_ = access.round_for(db, request.user, round_id)
        return self._round(request, db, round_)

    def _round(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        round_: AssessmentRound,
        error: str | None = None,
        errors: dict[str, str] | None = None,
        form: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Template:
        user = request.user
        overview = service.round_overview(db, round_)
        staff = permissions.can_see_respondents(user)
        context = {
            "round": round_,
            "org": organisations.get_organisation(db, round_.organisation_id),
            "overview": overview,
            # Who answered is the officer's to know; the organisation sees how many, and its own answers.
            "respondents": overview.respondents if staff else None,
            "mine": overview.of(user),
            "can_answer": permissions.can_answer(user, round_),
            "can_submit_round": permissions.can_submit_round(user, round_),
            "can_validate": permissions.can_validate(user, round_),
            "error": error,
            "errors": errors or {},
            "form": form or {},
            **_labels(),
        }
        return Template("assessments/round.html", context=context, status_code=status_code)

    @post("/assessments/{round_id:int}/respond", sync_to_thread=True)
    def respond(
        self, request: Request[Any, Any, Any], db: Db, round_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        user = request.user
        round_ = access.round_for(db, user, round_id)
        refuse_unless(permissions.can_answer(user, round_))
        try:
            form = parse(RespondForm, data)
        except FormErrors as exc:
            return self._round(
                request, db, round_, errors=exc.errors, form=data, status_code=HTTP_422_UNPROCESSABLE_ENTITY
            )
        response = service.response_of(db, round_, user, form.role)
        return _see_other(_step_url(response, response.current_step))

    @get("/assessments/{round_id:int}/submit", sync_to_thread=True)
    def submit_round_address(
        self, request: Request[Any, Any, Any], db: Db, round_id: FromPath[int]
    ) -> Response[Any]:
        """A refused sending (409) is shown at this address; reloading it comes back to the round."""
        round_ = access.round_for(db, request.user, round_id)
        return _see_other(f"/assessments/{round_.id}")

    @post("/assessments/{round_id:int}/submit", sync_to_thread=True)
    def submit_round(self, request: Request[Any, Any, Any], db: Db, round_id: FromPath[int]) -> Response[Any]:
        user = request.user
        round_ = access.round_for(db, user, round_id)
        if round_.status == RoundStatus.OPEN:
            refuse_unless(permissions.can_submit_round(user, round_))
        try:
            service.submit_round(db, round_, service.structure(db, round_.framework))
        except service.NotReady as exc:
            reason = _(NOT_READY.get(str(exc), NOT_READY["not open"]))
            return self._round(request, db, round_, reason, status_code=HTTP_409_CONFLICT)
        flash(request, _("Assessment sent for validation. The liaison officer will review it."))
        return _see_other(f"/assessments/{round_.id}")

    # One respondent's questionnaire -----------------------------------------------------------------------

    @get("/assessments/responses/{response_id:int}/steps/{step:int}", sync_to_thread=True)
    def step_page(
        self, request: Request[Any, Any, Any], db: Db, response_id: FromPath[int], step: FromPath[int]
    ) -> Template:
        response, round_ = access.own_response_for(db, request.user, response_id)
        shape = service.structure(db, round_.framework)
        if not 1 <= step <= len(shape.domains):
            raise NotFoundException()
        editable = service.answers_can_change(response, round_)
        if editable:
            service.remember_step(db, response, step)
        return self._step(request, response, round_, shape, service.answers_of(db, response.id), step)

    def _step(
        self,
        request: Request[Any, Any, Any],
        response: AssessmentResponse,
        round_: AssessmentRound,
        shape: service.Structure,
        answers: dict[int, AssessmentAnswer],
        step: int,
        views: dict[int, IndicatorView] | None = None,
        status_code: int = 200,
    ) -> Template:
        domain = shape.domains[step - 1]
        items = [
            (views or {}).get(i.id) or _view(i, f"{step}.{n}", answers.get(i.id))
            for n, i in enumerate(shape.indicators[domain.id], start=1)
        ]
        context = {
            "response": response,
            "round": round_,
            "domain": domain,
            "step": step,
            "steps": len(shape.domains),
            "items": items,
            "progress": service.progress_of(shape, answers),
            "editable": service.answers_can_change(response, round_),
            "has_errors": any(item.errors or item.unsaved for item in items),
            **_labels(),
        }
        return Template("assessments/questionnaire.html", context=context, status_code=status_code)

    @post("/assessments/responses/{response_id:int}/steps/{step:int}", sync_to_thread=True)
    def save_step(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        response_id: FromPath[int],
        step: FromPath[int],
        data: FormBody,
    ) -> Response[Any]:
        response, round_ = access.own_response_for(db, request.user, response_id)
        shape = service.structure(db, round_.framework)
        if not 1 <= step <= len(shape.domains):
            raise NotFoundException()
        indicators = shape.indicators[shape.domains[step - 1].id]
        # Only the indicators the form carries: a field missing altogether was not on the page.
        sent = [
            i
            for i in indicators
            if any(f"{name}-{i.id}" in data for name in ("choice", "evidence", "version"))
        ]
        answers = service.answers_of(db, response.id)
        forms: dict[int, AnswerIn] = {}
        errors: dict[int, dict[str, str]] = {}
        for indicator in sent:
            try:
                forms[indicator.id] = _answer_form(data, indicator.id)
            except FormErrors as exc:
                errors[indicator.id] = exc.errors
        # Answers the page sends back as it showed them were not touched here: they are not saved again.
        sent = [
            i
            for i in sent
            if i.id not in forms
            or data.get(f"shown-{i.id}") != shown_digest(_choice_value(forms[i.id]), forms[i.id].evidence)
        ]
        views: dict[int, IndicatorView] = {}
        if errors:
            # Nothing is saved: every answer shows what the page sent (and the version it held), to correct.
            for n, indicator in enumerate(indicators, start=1):
                if indicator in sent:
                    views[indicator.id] = _posted(
                        indicator, f"{step}.{n}", data, errors.get(indicator.id, {})
                    )
            return self._step(
                request, response, round_, shape, answers, step, views, HTTP_422_UNPROCESSABLE_ENTITY
            )
        try:
            conflicts = service.save_step(
                db, response, round_, [_entry(i, forms[i.id]) for i in sent], answers
            )
        except service.NotReady:
            flash(request, _(CLOSED), level="error")
            return _see_other(_step_url(response, step))
        if conflicts:
            # The other answers are saved (the request commits): the conflicting ones show what is saved now,
            # next to what this page sent.
            answers = service.answers_of(db, response.id)
            for n, indicator in enumerate(indicators, start=1):
                if indicator.id in conflicts:
                    view = _view(indicator, f"{step}.{n}", answers.get(indicator.id))
                    view.unsaved = forms[indicator.id]
                    views[indicator.id] = view
            return self._step(request, response, round_, shape, answers, step, views)
        then = str(data.get("then") or "next")
        if then == "previous" and step > 1:
            return _see_other(_step_url(response, step - 1))
        if then == "review" or step == len(shape.domains):
            return _see_other(f"/assessments/responses/{response.id}/review")
        return _see_other(_step_url(response, step + 1))

    @post("/assessments/responses/{response_id:int}/answers/{indicator_id:int}", sync_to_thread=True)
    def autosave(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        response_id: FromPath[int],
        indicator_id: FromPath[int],
        data: FormBody,
    ) -> Response[Any]:
        response, round_ = access.own_response_for(db, request.user, response_id)
        indicator = found(service.indicator_of(db, round_, indicator_id) if indicator_id <= MAX_ID else None)
        view = IndicatorView(indicator, "")
        status_code = 200
        try:
            form = _answer_form(data, indicator.id)
            answer = service.save_own_answer(db, response, round_, _entry(indicator, form))
        except FormErrors as exc:
            view, status_code = _posted(indicator, "", data, exc.errors), HTTP_422_UNPROCESSABLE_ENTITY
        except StaleVersion:
            view = _view(indicator, "", service.answers_of(db, response.id).get(indicator.id))
            view.unsaved, status_code = form, HTTP_409_CONFLICT
        except service.NotReady:
            view = _view(indicator, "", service.answers_of(db, response.id).get(indicator.id))
            view.errors, status_code = {"__all__": _(CLOSED)}, HTTP_409_CONFLICT
        else:
            view = _view(indicator, "", answer)
            view.saved_at = answer.updated_at
        if status_code == 200 and is_partial(request):
            # Only the version, the "saved" status and the progress change: the fieldset stays as it is, so
            # focus and what was typed since the request left are kept (templates: _q_saved.html).
            progress = service.response_progress(db, response, round_.framework_id)
            context = _partial(response, round_, view, progress)
            # An answer sent as it was stored is no new choice: a conflict shown for it stays (a save queued
            # behind the refused one sends the values the conflict put back).
            context["changed"] = answer.version != form.version
            return Template("assessments/partials/_q_saved.html", context=context)
        shape = service.structure(db, round_.framework)
        step = shape.step_of(indicator.id)
        if status_code == 200:  # without script: back to the step
            return _see_other(f"{_step_url(response, step)}#indicator-{indicator.id}")
        view.number = shape.number_of(indicator.id)
        answers = service.answers_of(db, response.id)
        if not is_partial(request):
            return self._step(
                request, response, round_, shape, answers, step, {indicator.id: view}, status_code
            )
        return Template(
            "assessments/partials/_q_refused.html",
            context=_partial(response, round_, view, service.progress_of(shape, answers)),
            status_code=status_code,
            headers={"HX-Retarget": f"#indicator-{indicator.id}", "HX-Reswap": "innerHTML"},
        )

    @get("/assessments/responses/{response_id:int}/review", sync_to_thread=True)
    def review(self, request: Request[Any, Any, Any], db: Db, response_id: FromPath[int]) -> Template:
        response, round_ = access.own_response_for(db, request.user, response_id)
        return self._review(db, response, round_)

    def _review(
        self, db: Session, response: AssessmentResponse, round_: AssessmentRound, status_code: int = 200
    ) -> Template:
        shape = service.structure(db, round_.framework)
        answers = service.answers_of(db, response.id)
        context = {
            "response": response,
            "round": round_,
            "shape": shape,
            "progress": service.progress_of(shape, answers),
            "steps": service.review_steps(shape, answers),
            "answers": answers,
            "editable": service.answers_can_change(response, round_),
            "refused": status_code != 200,
            **_labels(),
        }
        return Template("assessments/review.html", context=context, status_code=status_code)

    @post("/assessments/responses/{response_id:int}/submit", sync_to_thread=True)
    def submit_response(
        self, request: Request[Any, Any, Any], db: Db, response_id: FromPath[int]
    ) -> Response[Any]:
        response, round_ = access.own_response_for(db, request.user, response_id)
        if not service.answers_can_change(response, round_):
            if response.status == ResponseStatus.SUBMITTED:
                return _see_other(f"/assessments/{round_.id}")
            flash(request, _(CLOSED), level="error")
            return _see_other(f"/assessments/{round_.id}")
        try:
            service.submit_response(db, response, service.structure(db, round_.framework))
        except service.Incomplete:
            return self._review(db, response, round_, HTTP_422_UNPROCESSABLE_ENTITY)
        flash(request, _("Your answers are submitted. Thank you!"))
        return _see_other(f"/assessments/{round_.id}")


def _partial(
    response: AssessmentResponse, round_: AssessmentRound, view: IndicatorView, progress: service.Progress
) -> dict[str, Any]:
    """What an indicator's partial needs, alone (the answer to an autosave)."""
    return {
        "response": response,
        "item": view,
        "editable": service.answers_can_change(response, round_),
        "progress": progress,
        **_labels(),
    }


def _posted(
    indicator: FrameworkIndicator, number: str, data: dict[str, Any], errors: dict[str, str]
) -> IndicatorView:
    """An answer as the page sent it, refused: shown again as sent, with the version the page held."""
    version = str(data.get(f"version-{indicator.id}") or "")
    return IndicatorView(
        indicator,
        number,
        choice=data.get(f"choice-{indicator.id}"),
        evidence=data.get(f"evidence-{indicator.id}"),
        version=int(version) if version.isdigit() and int(version) <= MAX_ID else None,
        errors=errors,
        shown_as=str(data.get(f"shown-{indicator.id}") or "")[:16] or None,
    )


HANDLERS = [QuestionnaireController]
