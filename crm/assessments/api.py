"""The assessments' JSON API: frameworks, rounds, answers, submission, results and validation. Same rules as
the pages: an organisation's rounds are its own representatives' and the government side's alone."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_409_CONFLICT
from litestar.types import ControllerRouterHandler
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.accounts.permissions import ApiRequest, found, refuse_unless, requires
from crm.assessments import access, permissions, service
from crm.assessments.models import (
    AssessmentAnswer,
    AssessmentResponse,
    AssessmentRound,
    FrameworkIndicator,
    IndicatorReview,
    ResponseStatus,
)
from crm.assessments.models import RoundStatus as Status
from crm.assessments.results import IndicatorResult
from crm.assessments.schemas import (
    AnswerIn,
    AnswerOut,
    DomainOut,
    DomainResultOut,
    FrameworkList,
    FrameworkOut,
    FrameworkSummaryOut,
    IndicatorOut,
    IndicatorResultOut,
    LevelOut,
    MappingOut,
    NamedAnswerOut,
    RespondentOut,
    ResponseOut,
    ResultsOut,
    ReviewedOut,
    ReviewIn,
    ReviewOut,
    RoundDetailOut,
    RoundOut,
    RoundPage,
    SpreadOut,
    ValidationIn,
)
from crm.assessments.scoring import Band, Spread, rounded
from crm.organisations import access as organisation_access
from crm.organisations import permissions as organisation_permissions
from crm.organisations.service import StaleVersion
from crm.web.api import BEARER, MAX_ID, ApiError, ObjectId, PageNumber, PerPage, errors
from crm.web.deps import Db
from crm.web.i18n import N_, gettext, ngettext

# Why a round cannot move on (service.NotReady's reasons), as the client reads it.
NOT_READY = {
    "not open": N_("This assessment is no longer being answered."),
    "no submitted response": N_(
        "No respondent has submitted their answers yet: at least one must before the assessment is sent "
        "for validation."
    ),
    "not submitted": N_("This assessment is not waiting for validation."),
    "submitted": N_("Your answers are submitted: they can no longer change."),
    "no framework": N_("No assessment framework is loaded yet."),
}
STALE_ANSWER = N_(
    "This answer was saved elsewhere after you read it: it is now “%(choice)s”, version %(version)s. "
    "Read it again, then retry."
)
STALE_REVIEW = N_(
    "Another officer changed this review after you read it: it is now level %(level)s, version %(version)s. "
    "Read it again, then retry."
)
REVIEW_WITHDRAWN = N_("This review was withdrawn or set by another officer after you read it: read it again.")
REVIEWS_CHANGED = N_("The reviews changed after you read them: read the scores again before validating.")
NOT_ANSWERED = N_("No answer chosen.")

INCOMPLETE = {
    422: ResponseSpec(
        data_container=ApiError,
        description="Questions left unanswered: `fields` names each by its indicator code",
        generate_examples=False,
    )
}


# Refusals ----------------------------------------------------------------------------------------------


def _not_ready(exc: service.NotReady) -> HTTPException:
    reason = NOT_READY.get(str(exc))
    return HTTPException(status_code=HTTP_409_CONFLICT, detail=gettext(reason) if reason else str(exc))


def _stale_answer(current: AssessmentAnswer | None) -> HTTPException:
    """The 409 tells the answer saved meanwhile, so the client can show it or retry with its version."""
    if current is None:
        return HTTPException(status_code=HTTP_409_CONFLICT)
    detail = gettext(STALE_ANSWER) % {"choice": current.choice or "—", "version": current.version}
    return HTTPException(status_code=HTTP_409_CONFLICT, detail=detail)


def _stale_review(current: IndicatorReview | None) -> HTTPException:
    """The 409 tells the review saved meanwhile (or that it was withdrawn), to show or retry with its version."""
    if current is None:
        return HTTPException(status_code=HTTP_409_CONFLICT, detail=gettext(REVIEW_WITHDRAWN))
    detail = gettext(STALE_REVIEW) % {"level": current.level, "version": current.version}
    return HTTPException(status_code=HTTP_409_CONFLICT, detail=detail)


def _incomplete(shape: service.Structure, missing: list[int]) -> HTTPException:
    codes = {i.id: i.code for i in shape.all_indicators()}
    fields = [{"key": codes[i], "message": gettext(NOT_ANSWERED)} for i in missing]
    detail = ngettext(
        "Answer every indicator before submitting: %(num)d is unanswered.",
        "Answer every indicator before submitting: %(num)d are unanswered.",
        len(missing),
    ) % {"num": len(missing)}
    return HTTPException(status_code=422, detail=detail, extra=fields)


def _indicator_for(db: Session, round_: AssessmentRound, indicator_id: int) -> FrameworkIndicator:
    """One of the round's questions, or 404."""
    return found(service.indicator_of(db, round_, indicator_id) if indicator_id <= MAX_ID else None)


# Answers ------------------------------------------------------------------------------------------------


def _spread(spread: Spread | None) -> SpreadOut | None:
    if spread is None:
        return None
    return SpreadOut(low=spread.low, high=spread.high, disagreement=spread.disagreement)


def _band(band: Band | None) -> str | None:
    return band.value if band is not None else None


def _framework_out(shape: service.Structure) -> FrameworkOut:
    summary = FrameworkSummaryOut.model_validate(shape.framework)
    domains = [
        DomainOut(
            id=domain.id,
            code=domain.code,
            name=domain.name,
            description=domain.description,
            indicators=[
                IndicatorOut(
                    id=indicator.id,
                    code=indicator.code,
                    question=indicator.question,
                    guidance=indicator.guidance,
                    levels=[LevelOut(level=n, text=text) for n, text in enumerate(indicator.levels, start=1)],
                    mapping=(
                        MappingOut(kind=indicator.mapping_kind, maps_from=indicator.maps_from)
                        if indicator.mapping_kind
                        else None
                    ),
                )
                for indicator in shape.indicators[domain.id]
            ],
        )
        for domain in shape.domains
    ]
    return FrameworkOut(**summary.model_dump(), domains=domains)


def _round_detail_out(db: Session, user: User, round_: AssessmentRound) -> RoundDetailOut:
    responses = service.responses_of(db, round_.id)
    respondents = [
        RespondentOut(
            user_id=respondent.id,
            name=respondent.display_name,
            role=response.respondent_role,
            status=response.status,
            submitted_at=response.submitted_at,
        )
        for response, respondent in responses
    ]
    return RoundDetailOut(
        **RoundOut.model_validate(round_).model_dump(),
        responses=len(responses),
        submitted_responses=sum(r.status == ResponseStatus.SUBMITTED for r, _ in responses),
        respondents=respondents if permissions.can_see_respondents(user) else None,
    )


def _answer_out(answer: AssessmentAnswer, indicator: FrameworkIndicator) -> AnswerOut:
    return AnswerOut(
        indicator_id=indicator.id,
        code=indicator.code,
        choice=answer.choice,
        evidence=answer.evidence,
        version=answer.version,
        updated_at=answer.updated_at,
    )


def _response_out(db: Session, response: AssessmentResponse, shape: service.Structure) -> ResponseOut:
    answers = service.answers_of(db, response.id)
    return ResponseOut(
        id=response.id,
        round_id=response.round_id,
        status=response.status,
        submitted_at=response.submitted_at,
        answers=[_answer_out(answers[i.id], i) for i in shape.all_indicators() if i.id in answers],
        unanswered=[i.code for i in service.missing_indicators(shape, answers)],
    )


def _results_out(user: User, round_: AssessmentRound, results: service.RoundResults) -> ResultsOut:
    scores, found_before = results.scores, results.comparison
    # The organisation sees how many chose what, from enough respondents; only the officer sees who.
    shown = permissions.can_see_individual_answers(user, scores.respondents)
    named = permissions.can_see_respondents(user)
    domains = {d.id: d for d in results.shape.domains}
    codes = {i.id: i.code for i in results.shape.all_indicators()}

    def indicator_out(result: IndicatorResult) -> IndicatorResultOut:
        review = results.reviews.get(result.indicator_id)
        answers = None
        if named:
            answers = [
                NamedAnswerOut(
                    respondent_id=respondent.id,
                    name=respondent.display_name,
                    role=response.respondent_role,
                    choice=choice,
                )
                for response_id, choice in result.choices.items()
                if response_id in results.respondents
                for response, respondent in [results.respondents[response_id]]
            ]
        return IndicatorResultOut(
            id=result.indicator_id,
            code=codes[result.indicator_id],
            self_score=rounded(result.self_score),
            validated_score=rounded(result.validated_score),
            spread=_spread(result.spread),
            review=ReviewOut(level=review.level, comment=review.comment) if review else None,
            distribution=service.choice_counts(result.choices.values()) if shown else None,
            answers=answers,
        )

    return ResultsOut(
        round_id=round_.id,
        status=Status(round_.status),
        respondents=scores.respondents,
        individual_answers_shown=shown,
        self_score=rounded(scores.self_score),
        self_band=_band(scores.self_band),
        validated_score=rounded(scores.validated_score),
        band=_band(scores.band),
        previous_round_id=found_before.previous.id if found_before.previous else None,
        change=rounded(found_before.overall_change),
        domains=[
            DomainResultOut(
                id=d.id,
                code=d.code,
                name=domains[d.id].name,
                self_score=rounded(d.self_score),
                self_band=_band(d.self_band),
                validated_score=rounded(d.validated_score),
                band=_band(d.band),
                spread=_spread(d.spread),
                previous_score=rounded(found_before.previous_domain_scores.get(d.code)),
                change=rounded(found_before.changes.get(d.code)),
                indicators=[indicator_out(i) for i in d.indicators],
            )
            for d in scores.domains
        ],
    )


# Controllers -------------------------------------------------------------------------------------------


class FrameworkApiController(Controller):
    path = "/api/v1/frameworks"
    tags = ["frameworks"]
    include_in_schema = True
    security = BEARER
    # The questions are no one's answers: every role reads them, as the directory.
    guards = [requires(organisation_permissions.reads_directory)]

    @get("/", summary="List the assessment frameworks", responses=errors(403), sync_to_thread=True)
    def list_frameworks(self, db: Db) -> FrameworkList:
        current = service.current_framework(db)
        return FrameworkList(
            items=[FrameworkSummaryOut.model_validate(f) for f in service.list_frameworks(db)],
            current_id=current.id if current else None,
        )

    @get(
        "/{framework_id:int}",
        summary="Read a framework: its domains, indicators, level descriptors and mappings",
        responses=errors(403, 404),
        sync_to_thread=True,
    )
    def read_framework(self, db: Db, framework_id: ObjectId) -> FrameworkOut:
        return _framework_out(service.structure(db, access.framework_for(db, framework_id)))


class AssessmentApiController(Controller):
    path = "/api/v1"
    tags = ["assessments"]
    include_in_schema = True
    security = BEARER
    guards = [requires(organisation_permissions.reads_directory)]

    @get(
        "/assessments", summary="List the assessments you may see", responses=errors(403), sync_to_thread=True
    )
    def list_rounds(
        self,
        request: ApiRequest,
        db: Db,
        organisation_id: Annotated[
            int | None, QueryParameter(ge=1, le=MAX_ID, description="Only this organisation's.")
        ] = None,
        status: Annotated[Status | None, QueryParameter(description="Only rounds in this state.")] = None,
        page: PageNumber = 1,
        per_page: PerPage = 25,
    ) -> RoundPage:
        rounds = service.rounds_page(db, request.user, page, per_page, organisation_id, status)
        return RoundPage(
            items=[RoundOut.model_validate(r) for r in rounds.items],
            page=rounds.number,
            per_page=rounds.per_page,
            total=rounds.total,
        )

    @post(
        "/organisations/{organisation_id:int}/assessments",
        summary="Start the organisation's assessment, or get the one in progress (201 when started now)",
        responses={
            **errors(403, 404, 409),
            HTTP_200_OK: ResponseSpec(RoundOut, description="The round already in progress"),
        },
        sync_to_thread=True,
    )
    def start_round(self, request: ApiRequest, db: Db, organisation_id: ObjectId) -> Response[RoundOut]:
        user = request.user
        organisation = organisation_access.organisation_for(db, user, organisation_id)
        refuse_unless(permissions.can_start(user, organisation.id))
        try:
            round_, started = service.open_round(db, organisation, user, date.today())
        except service.NotReady as exc:
            raise _not_ready(exc) from None
        return Response(
            RoundOut.model_validate(round_), status_code=HTTP_201_CREATED if started else HTTP_200_OK
        )

    @get(
        "/assessments/{round_id:int}",
        summary="Read an assessment: its status, scores and how many responded",
        responses=errors(403, 404),
        sync_to_thread=True,
    )
    def read_round(self, request: ApiRequest, db: Db, round_id: ObjectId) -> RoundDetailOut:
        return _round_detail_out(db, request.user, access.round_for(db, request.user, round_id))

    @get(
        "/assessments/{round_id:int}/my-response",
        summary="Read your own answers (404 until you save one)",
        responses=errors(403, 404),
        sync_to_thread=True,
    )
    def read_my_response(self, request: ApiRequest, db: Db, round_id: ObjectId) -> ResponseOut:
        round_ = access.round_for(db, request.user, round_id)
        response = found(service.own_response(db, round_, request.user))
        return _response_out(db, response, service.structure(db, round_.framework))

    @put(
        "/assessments/{round_id:int}/answers/{indicator_id:int}",
        summary="Save your answer to one indicator (send the version you read; 409 if it changed since)",
        responses=errors(403, 404, 409),
        sync_to_thread=True,
    )
    def save_answer(
        self,
        request: ApiRequest,
        db: Db,
        round_id: ObjectId,
        indicator_id: ObjectId,
        data: JSONBody[AnswerIn],
    ) -> AnswerOut:
        user = request.user
        round_ = access.round_for(db, user, round_id)
        indicator = _indicator_for(db, round_, indicator_id)
        refuse_unless(permissions.can_answer(user, round_))
        response = service.response_of(db, round_, user)
        try:
            answer = service.save_answer(db, response, indicator, data.choice, data.evidence, data.version)
        except StaleVersion:
            raise _stale_answer(service.answers_of(db, response.id).get(indicator.id)) from None
        except service.NotReady as exc:
            raise _not_ready(exc) from None
        return _answer_out(answer, indicator)

    @post(
        "/assessments/{round_id:int}/my-response/submit",
        summary="Submit your answers (422 naming the indicators still unanswered)",
        status_code=HTTP_200_OK,
        responses={**errors(403, 404), **INCOMPLETE},
        sync_to_thread=True,
    )
    def submit_my_response(self, request: ApiRequest, db: Db, round_id: ObjectId) -> ResponseOut:
        user = request.user
        round_ = access.round_for(db, user, round_id)
        refuse_unless(permissions.can_answer(user, round_))
        shape = service.structure(db, round_.framework)
        # Begun here if the respondent saved nothing: the 422 then rolls it back with the request.
        response = service.response_of(db, round_, user)
        try:
            service.submit_response(db, response, shape)
        except service.Incomplete as exc:
            raise _incomplete(shape, exc.missing) from None
        return _response_out(db, response, shape)

    @post(
        "/assessments/{round_id:int}/submit",
        summary="Send the assessment for validation (409 until a respondent has submitted)",
        status_code=HTTP_200_OK,
        responses=errors(403, 404, 409),
        sync_to_thread=True,
    )
    def submit_round(self, request: ApiRequest, db: Db, round_id: ObjectId) -> RoundOut:
        round_ = access.round_for(db, request.user, round_id)
        try:
            service.submit_round(db, round_, service.structure(db, round_.framework))
        except service.NotReady as exc:
            raise _not_ready(exc) from None
        return RoundOut.model_validate(round_)

    @get(
        "/assessments/{round_id:int}/results",
        summary="Read an assessment's results: self and validated scores, bands, spreads, change",
        responses=errors(403, 404),
        sync_to_thread=True,
    )
    def read_results(self, request: ApiRequest, db: Db, round_id: ObjectId) -> ResultsOut:
        round_ = access.round_for(db, request.user, round_id)
        return _results_out(request.user, round_, service.results_of(db, round_))

    @put(
        "/assessments/{round_id:int}/reviews/{indicator_id:int}",
        summary="Set or withdraw the officer's validated level of one indicator (409 unless submitted)",
        responses=errors(403, 404, 409),
        sync_to_thread=True,
    )
    def review_indicator(
        self,
        request: ApiRequest,
        db: Db,
        round_id: ObjectId,
        indicator_id: ObjectId,
        data: JSONBody[ReviewIn],
    ) -> ReviewedOut:
        user = request.user
        round_ = access.round_for(db, user, round_id)
        refuse_unless(organisation_permissions.is_staff(user))
        indicator = _indicator_for(db, round_, indicator_id)
        try:
            review = service.review_indicator(
                db, round_, indicator, data.level, data.comment or "", user, data.version
            )
        except service.NotReady as exc:
            raise _not_ready(exc) from None
        except StaleVersion:
            raise _stale_review(service.reviews_of(db, round_.id).get(indicator.id)) from None
        if review is None:
            return ReviewedOut(indicator_id=indicator.id, level=None, comment=None, version=None)
        return ReviewedOut(
            indicator_id=indicator.id, level=review.level, comment=review.comment, version=review.version
        )

    @post(
        "/assessments/{round_id:int}/validate",
        summary="Validate a submitted assessment: self and validated scores are both kept (409 unless submitted)",
        status_code=HTTP_200_OK,
        responses=errors(403, 404, 409),
        sync_to_thread=True,
    )
    def validate_round(
        self, request: ApiRequest, db: Db, round_id: ObjectId, data: JSONBody[ValidationIn]
    ) -> RoundOut:
        user = request.user
        round_ = access.round_for(db, user, round_id)
        refuse_unless(organisation_permissions.is_staff(user))
        if data.reviews_state and data.reviews_state != service.reviews_state(
            service.reviews_of(db, round_.id)
        ):
            raise HTTPException(status_code=HTTP_409_CONFLICT, detail=gettext(REVIEWS_CHANGED))
        try:
            service.validate_round(
                db, round_, user, data.note or None, service.structure(db, round_.framework)
            )
        except service.NotReady as exc:
            raise _not_ready(exc) from None
        return RoundOut.model_validate(round_)


API_HANDLERS: list[ControllerRouterHandler] = [FrameworkApiController, AssessmentApiController]
