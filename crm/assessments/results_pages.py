"""HTTP for a round's validation by the officer, its results and its action plan."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_303_SEE_OTHER
from litestar.types import ControllerRouterHandler
from sqlalchemy.orm import Session

from crm.accounts.permissions import refuse_unless, requires_login
from crm.assessments import access, permissions, recommendations, service
from crm.assessments.chart import DomainBar, change_text, domain_chart_svg, score_text
from crm.assessments.models import (
    ACTION_STATUS_LABELS,
    ROUND_STATUS_LABELS,
    AssessmentRound,
    FrameworkIndicator,
    PlanAction,
    RoundStatus,
    text_in,
)
from crm.assessments.plan_schemas import ActionIn, ActionUpdate, ReviewIn, ValidationIn
from crm.assessments.questionnaire_pages import level_names
from crm.assessments.results import IndicatorResult, RoundScores
from crm.assessments.scoring import BAND_LABELS
from crm.organisations.service import StaleVersion
from crm.web.deps import Db
from crm.web.flash import flash
from crm.web.forms import FormBody, FormErrors, parse
from crm.web.i18n import N_, current_language, current_time_zone
from crm.web.i18n import gettext as _
from crm.web.templating import is_partial

STALE_ACTION = N_(
    "Someone else changed this action after you opened it. Your changes were not saved: the form now shows "
    "theirs."
)


def _today() -> date:
    """Today where the reader is: an action due today is not overdue yet for them."""
    return datetime.now(ZoneInfo(current_time_zone.get())).date()


def _redirect(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """After a successful post, the page to open (htmx: HX-Redirect, so the address bar follows)."""
    if is_partial(request):
        return Response(content=None, status_code=HTTP_204_NO_CONTENT, headers={"HX-Redirect": url})
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


def disagreements(results: Iterable[IndicatorResult]) -> int:
    """Indicators whose respondents are two levels or more apart: worth the officer's conversation."""
    return sum(1 for result in results if result.spread is not None and result.spread.disagreement)


def adjustments(results: Iterable[IndicatorResult]) -> int:
    """Indicators the officer set a validated level for."""
    return sum(1 for result in results if result.adjusted)


def _labels() -> dict[str, Any]:
    language = current_language.get()
    return {
        "tr": lambda value: text_in(value, language),
        "levels": level_names(),
        "disagreements": disagreements,
        "adjustments": adjustments,
        "band_labels": {band.value: label for band, label in BAND_LABELS.items()},
        "status_labels": ROUND_STATUS_LABELS,
        "action_status_labels": ACTION_STATUS_LABELS,
        "RoundStatus": RoundStatus,
        "number": score_text,
        "signed": change_text,
    }


def _not_ready_message(round_: AssessmentRound) -> str:
    return _("This assessment is not waiting for validation: its status is “%(status)s”.") % {
        "status": _(ROUND_STATUS_LABELS[RoundStatus(round_.status)])
    }


# Validation ---------------------------------------------------------------------------------------------


def _stale_review_message(form: ReviewIn) -> str:
    if form.level is None:
        mine = _("agree with the self score")
    else:
        mine = _("level %(level)d, “%(comment)s”") % {"level": form.level, "comment": form.comment or ""}
    return _(
        "Another officer saved this review after you opened the page: theirs is shown. Your change, not "
        "saved: %(mine)s."
    ) % {"mine": mine}


def _by_indicator(scores: RoundScores) -> dict[int, IndicatorResult]:
    return {i.indicator_id: i for d in scores.domains for i in d.indicators}


def _reviewed(request: Request[Any, Any, Any], db: Session, round_: AssessmentRound) -> dict[str, Any]:
    """What the validation page and each review partial show of the round: scores with the officer's reviews."""
    shape = service.structure(db, round_.framework)
    reviews = service.reviews_of(db, round_.id)
    scores = service.scores_of(db, round_, shape, reviews)
    return {
        "round": round_,
        "shape": shape,
        "scores": scores,
        "indicator_results": _by_indicator(scores),
        "reviews": reviews,
        "officers": service.names_of(db, [r.officer_id for r in reviews.values()]),
        "can_review": permissions.can_validate(request.user, round_),
        "reviews_state": service.reviews_state(reviews),
        **_labels(),
    }


def _validation_context(
    request: Request[Any, Any, Any],
    db: Session,
    round_: AssessmentRound,
    review_forms: dict[int, dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        **_reviewed(request, db, round_),
        "organisation": service.organisation_of(db, round_),
        "answers": service.answers_with_evidence(db, round_.id),
        "respondents_by_id": {r.id: (u, r) for r, u in service.submitted_respondents(db, round_.id)},
        "review_forms": review_forms or {},
        "form": {},
        "errors": {},
        "message": None,
        "confirming": False,
        **extra,
    }


def _review_context(
    request: Request[Any, Any, Any],
    db: Session,
    round_: AssessmentRound,
    indicator: FrameworkIndicator,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    return {
        **_reviewed(request, db, round_),
        "indicator": indicator,
        "review_forms": {indicator.id: {"form": form or {}, "errors": errors or {}, "message": message}},
        # The domain's and the round's figures follow the review (out-of-band swaps).
        "oob": True,
    }


def _indicator_of(db: Session, round_: AssessmentRound, indicator_id: int) -> FrameworkIndicator:
    indicator = service.indicator_in(service.structure(db, round_.framework), indicator_id)
    if indicator is None:
        raise NotFoundException()
    return indicator


class ValidationController(Controller):
    path = "/assessments"
    guards = [requires_login]

    @get("/{round_id:int}/validate", sync_to_thread=True)
    def validation_page(self, request: Request[Any, Any, Any], db: Db, round_id: FromPath[int]) -> Template:
        round_ = access.round_for(db, request.user, round_id)
        # The officer's page: it shows who answered what.
        refuse_unless(permissions.can_see_respondents(request.user))
        return Template("assessments/validate.html", context=_validation_context(request, db, round_))

    @post("/{round_id:int}/reviews/{indicator_id:int}", sync_to_thread=True)
    def review(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        round_id: FromPath[int],
        indicator_id: FromPath[int],
        data: FormBody,
    ) -> Response[Any]:
        round_ = access.round_for(db, request.user, round_id)
        refuse_unless(permissions.can_see_respondents(request.user))
        indicator = _indicator_of(db, round_, indicator_id)
        status_code, errors, message = 200, {}, None
        try:
            form = parse(ReviewIn, data)
            service.review_indicator(
                db, round_, indicator, form.level, form.comment or "", request.user, form.version
            )
        except FormErrors as exc:
            status_code, errors = 422, exc.errors
        except service.NotReady:
            status_code, message = 409, _not_ready_message(round_)
        except StaleVersion:
            # Another officer saved or withdrew this review meanwhile: theirs is shown, with what this officer
            # sent, unsaved, to send again deliberately.
            status_code, message, data = 409, _stale_review_message(form), {}
        if status_code == 200 and not is_partial(request):
            flash(request, _("Review saved."))
            return Redirect(f"/assessments/{round_.id}/validate#indicator-{indicator.id}", status_code=303)
        if is_partial(request):
            shown = data if status_code != 200 else {}
            context = _review_context(request, db, round_, indicator, shown, errors, message)
            if status_code == 200:
                context["saved"] = True
            return Template(
                "assessments/partials/_review_form.html", context=context, status_code=status_code
            )
        forms = {indicator.id: {"form": data, "errors": errors, "message": message}}
        return Template(
            "assessments/validate.html",
            context=_validation_context(request, db, round_, forms, message=message),
            status_code=status_code,
        )

    @post("/{round_id:int}/validate", sync_to_thread=True)
    def validate(
        self, request: Request[Any, Any, Any], db: Db, round_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        round_ = access.round_for(db, request.user, round_id)
        refuse_unless(permissions.can_see_respondents(request.user))
        if not permissions.can_validate(request.user, round_):
            return self._again(request, db, round_, data, {}, 409, _not_ready_message(round_))
        try:
            form = parse(ValidationIn, data)
        except FormErrors as exc:
            return self._again(request, db, round_, data, exc.errors, 422)
        if not form.confirmed:
            return self._again(request, db, round_, data, {}, 200, confirming=True)
        if form.reviews_state != service.reviews_state(service.reviews_of(db, round_.id)):
            message = _("Another officer changed a review since this page was shown: check the scores again.")
            return self._again(request, db, round_, data, {}, 409, message, confirming=True)
        try:
            service.validate_round(
                db, round_, request.user, form.note, service.structure(db, round_.framework)
            )
        except service.NotReady:
            return self._again(request, db, round_, data, {}, 409, _not_ready_message(round_))
        flash(request, _("Assessment validated. The organisation can now see its validated results."))
        return _redirect(request, f"/assessments/{round_.id}/results")

    def _again(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        round_: AssessmentRound,
        form: dict[str, Any],
        errors: dict[str, str],
        status_code: int,
        message: str | None = None,
        confirming: bool = False,
    ) -> Template:
        context = _validation_context(
            request, db, round_, form=form, errors=errors, message=message, confirming=confirming
        )
        return Template("assessments/validate.html", context=context, status_code=status_code)


# Results and the plan -------------------------------------------------------------------------------


def _results_context(
    request: Request[Any, Any, Any],
    db: Session,
    round_: AssessmentRound,
    plan_form: dict[str, Any] | None = None,
    plan_errors: dict[str, str] | None = None,
    action_forms: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    user = request.user
    context: dict[str, Any] = {
        "round": round_,
        "organisation": service.organisation_of(db, round_),
        "can_validate": permissions.can_validate(user, round_),
        "message": None,
        **_labels(),
    }
    if round_.status == RoundStatus.OPEN:
        return context
    shape = service.structure(db, round_.framework)
    reviews = service.reviews_of(db, round_.id)
    scores = service.scores_of(db, round_, shape, reviews)
    validated = round_.status == RoundStatus.VALIDATED
    compared = service.stored_comparison(db, round_, shape, scores) if validated else None
    names = service.names_of(db, [round_.validated_by_id, *(r.officer_id for r in reviews.values())])
    language = current_language.get()
    previous_scores = compared.previous_domain_scores if compared else {}
    bars = [
        DomainBar(
            text_in(domain.name, language),
            scores.by_code[domain.code].self_score,
            scores.by_code[domain.code].validated_score if validated else None,
            previous_scores.get(domain.code),
        )
        for domain in shape.domains
    ]
    shows_names = permissions.can_see_respondents(user)
    context.update(
        shape=shape,
        scores=scores,
        indicator_results=_by_indicator(scores),
        validated=validated,
        compared=compared,
        reviews=reviews,
        names=names,
        chart=domain_chart_svg(bars, _),
        domains_by_id={d.id: d for d in shape.domains},
        indicators_by_id={i.id: i for i in shape.all_indicators()},
        shows_names=shows_names,
        respondents=service.submitted_respondents(db, round_.id) if shows_names else [],
        shows_answers=permissions.can_see_individual_answers(user, scores.respondents),
        choice_counts=service.choice_counts,
        threshold=permissions.ANONYMITY_THRESHOLD,
    )
    if not validated or compared is None:
        return context
    actions = service.actions_of(db, round_.id)
    weak = recommendations.weak_domains_to_strengthen(scores.domains)
    context.update(
        actions=actions,
        progress=service.plan_progress(actions, _today()),
        today=_today(),
        can_plan=permissions.can_plan(user, round_),
        plan_form=plan_form or {},
        plan_errors=plan_errors or {},
        action_forms=action_forms or {},
        previous_plan=(
            service.previous_plan_against_change(db, compared.previous, shape, compared.changes)
            if compared.previous
            else []
        ),
        recommended=recommendations.recommendations(
            db,
            user,
            round_.organisation_id,
            round_.framework,
            [context["domains_by_id"][d.id] for d in weak],
        ),
        language=language,
    )
    return context


def _action_context(
    request: Request[Any, Any, Any],
    db: Session,
    action: PlanAction,
    round_: AssessmentRound,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    """One action re-rendered after an edit, with the plan's progress swapped out of band."""
    shape = service.structure(db, round_.framework)
    today = _today()
    return {
        "round": round_,
        "action": action,
        "shape": shape,
        "domains_by_id": {d.id: d for d in shape.domains},
        "indicators_by_id": {i.id: i for i in shape.all_indicators()},
        "progress": service.plan_progress(service.actions_of(db, round_.id), today),
        "today": today,
        "can_plan": True,
        "action_forms": {action.id: {"form": form, "errors": errors or {}, "message": message}},
        "oob": True,
        **_labels(),
    }


def _unsaved_action(data: dict[str, Any]) -> str:
    """What this person sent, shown back after a conflict so that nothing they typed is lost."""
    status = data.get("status")
    labels = {s.value: label for s, label in ACTION_STATUS_LABELS.items()}
    sent = [
        str(data.get("title") or "").strip(),
        str(data.get("owner") or "").strip(),
        str(data.get("due_on") or "").strip(),
        _(labels[status]) if status in labels else "",
    ]
    return _("Yours, not saved: %(values)s.") % {"values": " · ".join(v for v in sent if v) or "—"}


def action_values(action: PlanAction) -> dict[str, Any]:
    values = {name: getattr(action, name) for name in ActionIn.model_fields}
    values["version"] = action.version
    return values


class ResultsController(Controller):
    path = "/assessments"
    guards = [requires_login]

    @get("/{round_id:int}/results", sync_to_thread=True)
    def results(self, request: Request[Any, Any, Any], db: Db, round_id: FromPath[int]) -> Template:
        round_ = access.round_for(db, request.user, round_id)
        return Template("assessments/results.html", context=_results_context(request, db, round_))

    @post("/{round_id:int}/actions", sync_to_thread=True)
    def add_action(
        self, request: Request[Any, Any, Any], db: Db, round_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        round_ = access.round_for(db, request.user, round_id)
        if not permissions.can_plan(request.user, round_):
            # Past the access check, the only reason left is the round's status.
            context = _results_context(request, db, round_)
            context["message"] = _("The development plan is agreed once the assessment is validated.")
            return Template("assessments/results.html", context=context, status_code=409)
        try:
            form = parse(ActionIn, data)
            service.plan_action(db, round_, service.structure(db, round_.framework), form)
        except FormErrors as exc:
            return self._plan_again(request, db, round_, data, exc.errors)
        except service.PlanError as exc:
            return self._plan_again(request, db, round_, data, {k: _(v) for k, v in exc.errors.items()})
        flash(request, _("Action added to the development plan."))
        return _redirect(request, f"/assessments/{round_.id}/results#plan")

    def _plan_again(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        round_: AssessmentRound,
        form: dict[str, Any],
        errors: dict[str, str],
    ) -> Template:
        context = _results_context(request, db, round_, plan_form=form, plan_errors=errors)
        return Template("assessments/results.html", context=context, status_code=422)

    @post("/actions/{action_id:int}", sync_to_thread=True)
    def update_action(
        self, request: Request[Any, Any, Any], db: Db, action_id: FromPath[int], data: FormBody
    ) -> Response[Any]:
        action, round_ = access.action_for(db, request.user, action_id)
        errors: dict[str, str] = {}
        try:
            form = parse(ActionUpdate, data)
            service.replan_action(db, action, service.structure(db, round_.framework), form)
        except FormErrors as exc:
            errors = exc.errors
        except service.PlanError as exc:
            errors = {k: _(v) for k, v in exc.errors.items()}
        except StaleVersion:
            # The form comes back with the current values (and version), so saving again is a decision.
            message = _(STALE_ACTION) + " " + _unsaved_action(data)
            return self._action_again(request, db, action, round_, action_values(action), {}, 409, message)
        if errors:
            return self._action_again(request, db, action, round_, data, errors, 422)
        if is_partial(request):
            context = _action_context(request, db, action, round_)
            context["saved"] = True
            return Template("assessments/partials/_plan_action.html", context=context)
        flash(request, _("Action saved."))
        return Redirect(
            f"/assessments/{round_.id}/results#action-{action.id}", status_code=HTTP_303_SEE_OTHER
        )

    def _action_again(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        action: PlanAction,
        round_: AssessmentRound,
        form: dict[str, Any],
        errors: dict[str, str],
        status_code: int,
        message: str | None = None,
    ) -> Template:
        if is_partial(request):
            context = _action_context(request, db, action, round_, form, errors, message)
            return Template(
                "assessments/partials/_plan_action.html", context=context, status_code=status_code
            )
        forms = {action.id: {"form": form, "errors": errors, "message": message}}
        context = _results_context(request, db, round_, action_forms=forms)
        return Template("assessments/results.html", context=context, status_code=status_code)


HANDLERS: list[ControllerRouterHandler] = [ValidationController, ResultsController]
