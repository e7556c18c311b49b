"""Who gets what at every route of the app: one row per route, one expected answer per persona.

The routes come from the app's own router, so a new route fails here until someone decides, in the table
below, what each persona gets there. The table states the rules of PRODUCT.md ("Who uses it"), not what
the code happens to answer: where the two differ the test fails, and that failure is the finding.

How a response is classed (the point is whether the persona got past the access check, not whether the
request itself was complete, so a form posted empty that comes back with field errors counts as allowed):

    ok      2xx, a redirect anywhere but the sign-in page's "?next=" refusal, or 400/409/422 (past the
            check; the body was invalid or stale). Signing out lands on a plain /login: that is ok.
    login   401 (the API without a token, or htmx), or a redirect to /login?next=... (pages)
    403     refused although the persona may know the record exists
    404     refused without telling whether the record exists
    405     the method is not served there
    a|b     either answer is right (refused for the role before the record is looked up, or by the record)

Personas: anon (no session, no token), admin, officer (liaison officer), repA (represents organisation A,
which did not consent to share), repB (represents organisation B, which did), trainer, norole (signed in,
but holding no role: an account whose roles were all withdrawn keeps nothing but its own account pages).

Every page route is also asked as an htmx partial (HX-Request), which must be classed the same way; the
API routes are asked with the persona's own token in `Authorization: Bearer`. Writes send a valid CSRF
token (pages) or a minimal valid JSON body (API: an invalid body would be refused with 400 before the
record's access check runs, and hide what this test is after).

Besides the class of answer: an API refusal is a JSON error body, never a page; and nobody who may not
see organisation A's private data (anon, repB, trainer, norole) may find its name, its contact or its
activity anywhere in an answer they are given: directory, exports, map, API lists.

One app and database per route (PostgreSQL too when CRM_TEST_POSTGRES_URL is set); the generated OPTIONS
handlers (CORS preflight, no code of ours) are the only handlers left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.models import User
from crm.app import create_app
from crm.assessments import service as assessments
from crm.assessments.framework import parse_framework
from crm.assessments.models import AssessmentAnswer, Choice
from crm.organisations import service as organisations
from crm.organisations.models import Contact, Organisation
from crm.organisations.schemas import ActivityIn
from crm.partners import service as partners
from crm.partners.models import PartnerActor
from crm.partners.schemas import PartnerIn
from crm.settings import Settings, load_settings
from crm.training import service as training
from crm.training.models import FeedScope
from tests.assessments.conftest import encode, framework_document
from tests.conftest import SECRET, Client

PERSONAS = ("anon", "admin", "officer", "repA", "repB", "trainer", "norole")
# Who may not see organisation A's private data: their answers must never name it.
OUTSIDERS = ("anon", "repB", "trainer", "norole")
# Writers that destroy or change what others are asked about go last (the admin deletes A last).
ORDER = ("anon", "norole", "trainer", "repB", "repA", "officer", "admin")
OUTCOMES = {"ok", "login", "403", "404", "405"}

# fmt: off
MATRIX_TABLE = """
method path                                                 anon  admin officer repA repB    trainer norole
# Public: files, health, language, signing in and out, the API's documentation.
GET    /static/{file_path:path}                             ok    ok    ok      ok   ok      ok      ok
HEAD   /static/{file_path:path}                             ok    ok    ok      ok   ok      ok      ok
GET    /healthz                                             ok    ok    ok      ok   ok      ok      ok
GET    /language/{code:str}                                 ok    ok    ok      ok   ok      ok      ok
GET    /login                                               ok    ok    ok      ok   ok      ok      ok
POST   /login                                               ok    ok    ok      ok   ok      ok      ok
POST   /logout                                              ok    ok    ok      ok   ok      ok      ok
GET    /schema                                              ok    ok    ok      ok   ok      ok      ok
GET    /schema/redoc                                        ok    ok    ok      ok   ok      ok      ok
GET    /schema/openapi.json                                 ok    ok    ok      ok   ok      ok      ok
GET    /schema/{path:str}                                   404   404   404     404  404     404     404
# One's own account: home page and API tokens (the token revoked is the persona's own).
GET    /                                                    login ok    ok      ok   ok      ok      ok
GET    /account/tokens                                      login ok    ok      ok   ok      ok      ok
POST   /account/tokens                                      login ok    ok      ok   ok      ok      ok
POST   /account/tokens/{token_id:int}/revoke                login ok    ok      ok   ok      ok      ok
# Users are the admin's alone ({user_id} is someone else).
GET    /admin/users                                         login ok    403     403  403     403     403
GET    /admin/users/new                                     login ok    403     403  403     403     403
POST   /admin/users/new                                     login ok    403     403  403     403     403
GET    /admin/users/{user_id:int}                           login ok    403     403  403     403     403
POST   /admin/users/{user_id:int}                           login ok    403     403  403     403     403
# The directory: every role reads its public part (a trainer looks for the organisations it trains and
# for peers strong in a domain); an account with no role reads nothing (permissions.reads_directory).
GET    /organisations                                       login ok    ok      ok   ok      ok      403
GET    /organisations/export/{fmt:str}                      login ok    ok      ok   ok      ok      403
GET    /map                                                 login ok    ok      ok   ok      ok      403
GET    /api/v1/organisations                                login ok    ok      ok   ok      ok      403
# Mapping organisations is the government side's work.
GET    /organisations/new                                   login ok    ok      403  403     403     403
POST   /organisations/new                                   login ok    ok      403  403     403     403
POST   /api/v1/organisations                                login ok    ok      403  403     403     403
GET    /import/organisations                                login ok    ok      403  403     403     403
POST   /import/organisations                                login ok    ok      403  403     403     403
GET    /organisations/{organisation_id:int}/merge           login ok    ok      403  403     403     403
POST   /organisations/{organisation_id:int}/merge           login ok    ok      403  403     403     403
POST   /organisations/{organisation_id:int}/delete          login ok    403     403  403     403     403
DELETE /api/v1/organisations/{organisation_id:int}          login ok    403     403  403     403     403
# Who speaks for an organisation is the government side's to decide ({user_id}: a representative of A).
POST   /organisations/{organisation_id:int}/representatives login ok ok      403  403     403     403
POST   /organisations/{organisation_id:int}/representatives/{user_id:int}/remove login ok ok 403 403 403 403
GET    /organisations/picker                                login ok    ok      403  403     403     403
GET    /organisations/picker/results                        login ok    ok      403  403     403     403
# Organisation A (private): its staff and its own representative. Others learn nothing of it (404); those
# with no right to organisations at all may be refused for their role first (403).
GET    /organisations/{organisation_id:int}                 login ok    ok      ok   404     403|404 403|404
GET    /organisations/{organisation_id:int}/edit            login ok    ok      ok   404     403|404 403|404
POST   /organisations/{organisation_id:int}/edit            login ok    ok      ok   404     403|404 403|404
GET    /organisations/{organisation_id:int}/contacts        login ok    ok      ok   404     403|404 403|404
POST   /organisations/{organisation_id:int}/contacts        login ok    ok      ok   404     403|404 403|404
GET    /organisations/{organisation_id:int}/activities      login ok    ok      ok   404     403|404 403|404
POST   /organisations/{organisation_id:int}/activities      login ok    ok      ok   404     403|404 403|404
GET    /organisations/{organisation_id:int}/representatives login ok ok      ok   404     403|404 403|404
GET    /api/v1/organisations/{organisation_id:int}          login ok    ok      ok   404     403|404 403|404
PUT    /api/v1/organisations/{organisation_id:int}          login ok    ok      ok   404     403|404 403|404
GET    /api/v1/organisations/{organisation_id:int}/contacts login ok    ok      ok   404     403|404 403|404
POST   /api/v1/organisations/{organisation_id:int}/contacts login ok    ok      ok   404     403|404 403|404
GET    /api/v1/contacts/{contact_id:int}                    login ok    ok      ok   404     403|404 403|404
PUT    /api/v1/contacts/{contact_id:int}                    login ok    ok      ok   404     403|404 403|404
# Every contact at once is the government side's.
GET    /api/v1/contacts                                     login ok    ok      403  403     403     403
# Partner actors: the government's counterparts, for the government side.
GET    /partners                                            login ok    ok      403  403     403     403
GET    /partners/new                                        login ok    ok      403  403     403     403
POST   /partners/new                                        login ok    ok      403  403     403     403
GET    /partners/{partner_id:int}                           login ok    ok      403  403     403     403
POST   /partners/{partner_id:int}                           login ok    ok      403  403     403     403
GET    /api/v1/partners                                     login ok    ok      403  403     403     403
POST   /api/v1/partners                                     login ok    ok      403  403     403     403
GET    /api/v1/partners/{partner_id:int}                    login ok    ok      403  403     403     403
PUT    /api/v1/partners/{partner_id:int}                    login ok    ok      403  403     403     403
# Assessments of organisation A ({round_id}: A's round being answered, {response_id}: repA's own response,
# {action_id}: an action of A's earlier, validated round): A's representatives and the government side only;
# a response is its respondent's alone. Others learn nothing of them (404) or are refused for their role.
# -- questionnaire pages
# A's rounds: its staff and its own representatives; only representatives answer (staff are no respondents,
# so "respond" and someone else's response refuse them with 403).
GET    /organisations/{organisation_id:int}/assessments     login ok    ok      ok   404     403|404 403|404
POST   /organisations/{organisation_id:int}/assessments     login ok    ok      ok   404     403|404 403|404
GET    /assessments/{round_id:int}                          login ok    ok      ok   404     403|404 403|404
POST   /assessments/{round_id:int}/respond                  login 403   403     ok   404     403|404 403|404
GET    /assessments/{round_id:int}/submit                   login ok    ok      ok   404     403|404 403|404
POST   /assessments/{round_id:int}/submit                   login ok    ok      ok   404     403|404 403|404
GET    /assessments/responses/{response_id:int}/steps/{step:int} login 403 403  ok   404     403|404 403|404
POST   /assessments/responses/{response_id:int}/steps/{step:int} login 403 403  ok   404     403|404 403|404
POST   /assessments/responses/{response_id:int}/answers/{indicator_id:int} login 403 403 ok 404 403|404 403|404
GET    /assessments/responses/{response_id:int}/review      login 403   403     ok   404     403|404 403|404
POST   /assessments/responses/{response_id:int}/submit      login 403   403     ok   404     403|404 403|404
# -- validation, results and plan pages
# Validation is the government side's (A's representative may know the round: 403); results and the plan are
# A's and its officer's (the round being answered has no plan yet: adding an action answers 409).
GET    /assessments/{round_id:int}/validate                 login ok    ok      403  404     403|404 403|404
POST   /assessments/{round_id:int}/validate                 login ok    ok      403  404     403|404 403|404
POST   /assessments/{round_id:int}/reviews/{indicator_id:int} login ok ok      403  404     403|404 403|404
GET    /assessments/{round_id:int}/results                  login ok    ok      ok   404     403|404 403|404
POST   /assessments/{round_id:int}/actions                  login ok    ok      ok   404     403|404 403|404
POST   /assessments/actions/{action_id:int}                 login ok    ok      ok   404     403|404 403|404
# -- frameworks and portfolio pages
GET    /frameworks                                          login ok    ok      ok   ok      ok      403
GET    /frameworks/{framework_id:int}                       login ok    ok      ok   ok      ok      403
GET    /assessments/portfolio                               login ok    ok      403  403     403     403
GET    /assessments/portfolio/organisations                 login ok    ok      403  403     403     403
# -- assessments API
# Frameworks are the questions, no one's answers: every role reads them. The list of assessments is filtered
# to what each may see (a trainer's is empty); answering is for A's representatives alone (staff are no
# respondents, and have no response of their own to read); reviewing and validating are the officer's.
GET    /api/v1/frameworks                                   login ok    ok      ok   ok      ok      403
GET    /api/v1/frameworks/{framework_id:int}                login ok    ok      ok   ok      ok      403
GET    /api/v1/assessments                                  login ok    ok      ok   ok      ok      403
POST   /api/v1/organisations/{organisation_id:int}/assessments login ok ok    ok   404     403|404 403|404
GET    /api/v1/assessments/{round_id:int}                   login ok    ok      ok   404     403|404 403|404
GET    /api/v1/assessments/{round_id:int}/my-response       login 404   404     ok   404     403|404 403|404
PUT    /api/v1/assessments/{round_id:int}/answers/{indicator_id:int} login 403 403 ok 404    403|404 403|404
POST   /api/v1/assessments/{round_id:int}/my-response/submit login 403  403     ok   404     403|404 403|404
POST   /api/v1/assessments/{round_id:int}/submit            login ok    ok      ok   404     403|404 403|404
GET    /api/v1/assessments/{round_id:int}/results           login ok    ok      ok   404     403|404 403|404
PUT    /api/v1/assessments/{round_id:int}/reviews/{indicator_id:int} login ok ok 403 404    403|404 403|404
POST   /api/v1/assessments/{round_id:int}/validate          login ok    ok      403  404     403|404 403|404
# Sessions of the planned programme A leads: seen by staff, its trainer and A; scheduled and changed by staff
# and its trainer (A sees it: 403). Posts without a body change nothing: the forms answer 422, and a
# cancellation asks to be confirmed first.
GET    /training/programmes/{programme_id:int}/sessions/new login ok    ok      403  404     ok      404
POST   /training/programmes/{programme_id:int}/sessions/new login ok    ok      403  404     ok      404
GET    /training/sessions/{series_id:int}/occurrences/{start:str} login ok ok   ok   404     ok      404
POST   /training/sessions/{series_id:int}/occurrences/{start:str}/move login ok ok 403 404   ok      404
POST   /training/sessions/{series_id:int}/occurrences/{start:str}/cancel login ok ok 403 404 ok      404
POST   /training/sessions/{series_id:int}/occurrences/{start:str}/following login ok ok 403 404 ok   404
POST   /training/sessions/{series_id:int}/edit              login ok    ok      403  404     ok      404
POST   /training/sessions/{series_id:int}/cancel            login ok    ok      403  404     ok      404
GET    /training/sessions/{series_id:int}/calendar.ics      login ok    ok      ok   404     ok      404
# The calendar and one's own sessions: every role (each sees only the sessions of programmes it may see).
GET    /training/calendar                                   login ok    ok      ok   ok      ok      403
GET    /training/my-calendar                                login ok    ok      ok   ok      ok      403
# A feed's address ({feed_scope}: programme, {scope_id}: A's planned programme): whoever may see the programme.
POST   /training/feeds/{feed_scope:str}/{scope_id:int}/renew login ok    ok      ok   404     ok      404
POST   /training/feeds/{feed_scope:str}/{scope_id:int}/revoke login ok    ok      ok   404     ok      404
# Programme pages ({programme_id}: A's programme being planned, run by the trainer; {enrolment_id}: A's enrolment).
# Every role reads the catalogue; staff and trainers create programmes. A planned programme is seen by staff, its
# trainers and A alone (others: 404); those who run it (staff, its trainers) edit it and enrol any organisation,
# A may not enrol while it is only planned (403); A's enrolment is acted on by those who run the programme and
# by A itself (withdrawing asks first: an empty post answers the confirmation).
GET    /training/programmes                                 login ok    ok      ok   ok      ok      403
GET    /training/programmes/new                             login ok    ok      403  403     ok      403
POST   /training/programmes/new                             login ok    ok      403  403     ok      403
GET    /training/programmes/{programme_id:int}              login ok    ok      ok   404     ok      403|404
GET    /training/programmes/{programme_id:int}/edit         login ok    ok      403  404     ok      403|404
POST   /training/programmes/{programme_id:int}/edit         login ok    ok      403  404     ok      403|404
POST   /training/programmes/{programme_id:int}/enrolments   login ok    ok      403  404     ok      403|404
POST   /training/enrolments/{enrolment_id:int}/withdraw     login ok    ok      ok   404     ok      403|404
POST   /training/enrolments/{enrolment_id:int}/participants login ok    ok      ok   404     ok      403|404
# Calendar feeds: calendar apps do not sign in; the secret address is the credential ({secret}: the persona's
# own "my sessions" feed). An address that names no live feed, or the feed of an account left without any role,
# is not found.
GET    /calendars/{secret:str}/sessions.ics                 404   ok    ok      ok   ok      ok      404
"""
# fmt: on


def parse_matrix(table: str) -> dict[tuple[str, str], dict[str, set[str]]]:
    lines = [line for line in table.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    header, *rows = (line.split() for line in lines)
    assert tuple(header[2:]) == PERSONAS, f"the table's columns must be {PERSONAS}"
    matrix: dict[tuple[str, str], dict[str, set[str]]] = {}
    for method, path, *cells in rows:
        assert len(cells) == len(PERSONAS), f"{method} {path}: one cell per persona"
        answers = [set(cell.split("|")) for cell in cells]
        assert all(a <= OUTCOMES for a in answers), f"{method} {path}: cells are among {sorted(OUTCOMES)}"
        assert (method, path) not in matrix, f"{method} {path} appears twice"
        matrix[method, path] = dict(zip(PERSONAS, answers, strict=True))
    return matrix


MATRIX = parse_matrix(MATRIX_TABLE)


def app_routes() -> list[tuple[str, str]]:
    """Every (method, path pattern) the router serves, from an app that never opens its database."""
    engine = create_engine("sqlite://")
    settings = load_settings(database_url="sqlite://", secret_key=SECRET, demo=False)
    app = create_app(settings, engine)
    found = {
        (method, route.path)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods
        if method != "OPTIONS"
    }
    engine.dispose()
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


ROUTES = app_routes()


# The world each route is asked about -------------------------------------------------------------------

ORG_A_NAME = "Aardvark Quietwater Association"
CONTACT_NAME = "Ysolde Confidentielle"
# The title of the programme organisation A is still planning: only staff, its trainer and A may read it.
TRAINING_TITLE = "Quietwater Ledger Circle"
ACTIVITY_SUMMARY = "Budget talks kept between us"
PRIVATE_TEXTS = (ORG_A_NAME, CONTACT_NAME, ACTIVITY_SUMMARY)


@dataclass
class AssessmentIds:
    framework_id: int
    indicator_id: int
    round_id: int
    response_id: int
    action_id: int


@dataclass
class TrainingIds:
    programme_id: int
    series_id: int
    enrolment_id: int
    # An occurrence of the series, as its pages name it: the local wall time it starts at.
    start: str


def training_of_a(db: Session, org_a: Organisation, trainer: User) -> TrainingIds:
    """A programme that organisation A leads and is still planning (so only staff, its trainer and A see it),
    run by the trainer persona, with A enrolled and a weekly series in Dublin."""
    programme = training.create_programme(
        db,
        title=TRAINING_TITLE,
        description="Peer sessions on simple, honest accounts.",
        lead_organisation_id=org_a.id,
        places=5,
        domains=["finance"],
        trainers=[trainer.id],
        created_by=trainer,
        status="planned",
    )
    enrolment = training.enrol(db, programme, org_a.id)
    first = datetime(2027, 3, 1, 18, 0)
    series = training.create_series(
        db,
        programme,
        training.SeriesInput(
            "Evening session", first, first + timedelta(hours=1), "Europe/Dublin", (0,), count=6
        ),
    )
    return TrainingIds(programme.id, series.id, enrolment.id, first.strftime("%Y-%m-%dT%H:%M"))


def assessments_of_a(db: Session, org_a: Organisation, rep_a: User, officer: User) -> AssessmentIds:
    """A validated round of A with one action in its plan, then a new round of A that repA is answering."""
    framework, _ = assessments.load_framework(db, parse_framework(encode(framework_document())))
    shape = assessments.structure(db, framework)
    earlier = assessments.start_round(db, org_a, rep_a, framework, date(2025, 3, 1))
    response = assessments.response_of(db, earlier, rep_a)
    for indicator in shape.all_indicators():
        assessments.save_answer(db, response, indicator, Choice.LEVEL_2, "Minutes of the AGM", None)
    assessments.submit_response(db, response, shape)
    assessments.submit_round(db, earlier, shape)
    assessments.validate_round(db, earlier, officer, None, shape)
    first = shape.all_indicators()[0]
    action = assessments.add_action(db, earlier, domain_id=first.domain_id, title="Write a budget")
    current = assessments.start_round(db, org_a, rep_a, framework, date(2026, 3, 1))
    own = assessments.response_of(db, current, rep_a)
    assessments.save_answer(db, own, first, Choice.LEVEL_3, None, None)
    db.commit()
    return AssessmentIds(framework.id, first.id, current.id, own.id, action.id)


@dataclass
class World:
    db: Session
    org_a: Organisation
    contact: Contact
    partner: PartnerActor
    other_user: User
    make_representative: Callable[..., User]
    clients: dict[str, Client]
    token_ids: dict[str, int]
    secrets: dict[str, str]
    assessment: AssessmentIds
    # Each persona's own "my sessions" calendar feed; anonymous holds an address that names nothing.
    feed_secrets: dict[str, str]
    training: TrainingIds

    def representative_to_remove(self, persona: str) -> int:
        """A representative of A for this persona alone, so one removal does not change the next answer."""
        email = f"spare.{persona.lower()}@example.org"
        existing = accounts.get_user_by_email(self.db, email)
        return (existing or self.make_representative(self.org_a, email=email)).id

    def version(self, model: Any, id_: int) -> int:
        self.db.commit()  # a new transaction: SQLite would otherwise read the snapshot it began with
        return self.db.scalar(select(model.version).where(model.id == id_))


@pytest.fixture
def world(
    db: Session,
    make_user: Any,
    make_organisation: Any,
    make_representative: Any,
    make_contact: Any,
    client_factory: Any,
    settings: Settings,
) -> World:
    org_a = make_organisation(ORG_A_NAME, consent_to_share=False, residence_city="Lyon")
    org_b = make_organisation("Baobab Open Network", consent_to_share=True)
    contact = make_contact(org_a, CONTACT_NAME, email="ysolde@example.org")
    organisations.add_activity(
        db, org_a, None, ActivityIn(kind="meeting", occurred_on=date(2024, 5, 14), summary=ACTIVITY_SUMMARY)
    )
    partner = partners.create_partner(db, PartnerIn(name="Ministry of Abroad", type="ministry"))
    # The forms never leave an account without a role, but the database can (a role row removed by hand or
    # by a migration): such an account must get nothing from having signed in alone.
    norole = make_user("trainer", email="norole@example.org")
    norole.role_rows.clear()
    db.commit()
    users: dict[str, User] = {
        "admin": make_user("admin", email="admin@example.org"),
        "officer": make_user("liaison_officer", email="officer@example.org"),
        "repA": make_representative(org_a, email="repa@example.org"),
        "repB": make_representative(org_b, email="repb@example.org"),
        "trainer": make_user("trainer", email="trainer@example.org"),
        "norole": norole,
    }
    other_user = make_user("liaison_officer", email="someone.else@example.org")
    assessment = assessments_of_a(db, org_a, users["repA"], users["officer"])
    training_ids = training_of_a(db, org_a, users["trainer"])
    # Anonymous has no token: the one it tries to revoke is someone else's.
    token_ids, secrets = {}, {}
    for persona, user in [*users.items(), ("anon", other_user)]:
        token = accounts.create_api_token(db, user, "matrix")
        token_ids[persona], secrets[persona] = token.token.id, token.secret
    feed_secrets = {"anon": "1-not-a-feed"}
    for persona, user in users.items():
        feed = training.new_feed_token(db, user, FeedScope.MINE, None)
        feed_secrets[persona] = training.feed_secret(settings.secret_key, feed)
    clients = {"anon": client_factory()}
    for persona, user in users.items():
        clients[persona] = client_factory()
        session_token = accounts.start_session(db, user, "127.0.0.1", days=1)
        clients[persona].cookies.set("crm_session", session_token, domain="testserver.local")
    db.commit()
    return World(
        db=db,
        org_a=org_a,
        contact=contact,
        partner=partner,
        other_user=other_user,
        make_representative=make_representative,
        clients=clients,
        token_ids=token_ids,
        secrets=secrets,
        assessment=assessment,
        feed_secrets=feed_secrets,
        training=training_ids,
    )


def path_values(world: World, persona: str, pattern: str) -> dict[str, Any]:
    return {
        "file_path": "app.css",
        "code": "fr",
        "path": "no-such-renderer",
        "fmt": "csv",
        "organisation_id": world.org_a.id,
        "contact_id": world.contact.id,
        "partner_id": world.partner.id,
        "user_id": (
            world.representative_to_remove(persona) if "/representatives/" in pattern else world.other_user.id
        ),
        "token_id": world.token_ids[persona],
        "framework_id": world.assessment.framework_id,
        "indicator_id": world.assessment.indicator_id,
        "round_id": world.assessment.round_id,
        "response_id": world.assessment.response_id,
        "action_id": world.assessment.action_id,
        "step": 1,
        "secret": world.feed_secrets[persona],
        "programme_id": world.training.programme_id,
        "series_id": world.training.series_id,
        "enrolment_id": world.training.enrolment_id,
        "start": world.training.start,
        "scope": "programme",
        # Litestar keeps the name `scope` for itself: a feed's scope in a path is `feed_scope`.
        "feed_scope": "programme",
        "scope_id": world.training.programme_id,
    }


def fill(pattern: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), pattern)


ORGANISATION_BODY = {
    "name": ORG_A_NAME,
    "origin_country": "SN",
    "residence_country": "FR",
    "consent_to_share": False,
}


# Minimal valid JSON bodies, so an allowed request reaches its record's access check and succeeds.
API_BODIES: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("POST", "/api/v1/organisations"): lambda w: {**ORGANISATION_BODY, "name": "Created By The Matrix"},
    ("PUT", "/api/v1/organisations/{organisation_id:int}"): lambda w: {
        **ORGANISATION_BODY,
        "version": w.version(Organisation, w.org_a.id),
    },
    ("POST", "/api/v1/organisations/{organisation_id:int}/contacts"): lambda w: {"full_name": "New Person"},
    ("PUT", "/api/v1/contacts/{contact_id:int}"): lambda w: {
        "full_name": CONTACT_NAME,
        "version": w.version(Contact, w.contact.id),
    },
    ("POST", "/api/v1/partners"): lambda w: {"name": "Embassy of Elsewhere", "type": "embassy_consulate"},
    ("PUT", "/api/v1/partners/{partner_id:int}"): lambda w: {
        "name": "Ministry of Abroad",
        "type": "ministry",
        "version": w.version(PartnerActor, w.partner.id),
    },
    ("PUT", "/api/v1/assessments/{round_id:int}/answers/{indicator_id:int}"): lambda w: {
        "choice": "4",
        "evidence": "Minutes of the board",
        "version": w.version(
            AssessmentAnswer,
            w.db.scalar(
                select(AssessmentAnswer.id).where(AssessmentAnswer.response_id == w.assessment.response_id)
            ),
        ),
    },
    ("PUT", "/api/v1/assessments/{round_id:int}/reviews/{indicator_id:int}"): lambda w: {
        "level": 3,
        "comment": "The minutes show a board that meets",
    },
    ("POST", "/api/v1/assessments/{round_id:int}/validate"): lambda w: {"note": None},
}
# Multipart forms: sent as a browser sends an empty file field.
MULTIPART_ROUTES = {("POST", "/import/organisations")}


def classify(response: Any) -> str:
    status = response.status_code
    if status == 401:
        return "login"
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("location", ""))
        return "login" if target.path == "/login" and "next=" in target.query else "ok"
    if status < 300 or status in (400, 409, 422):
        return "ok"
    return str(status)


def describe(response: Any) -> str:
    where = response.headers.get("location") or response.headers.get("hx-redirect")
    return f"{response.status_code}" + (f" -> {where}" if where else "")


def ask(world: World, persona: str, method: str, pattern: str, *, htmx: bool = False) -> Any:
    client = world.clients[persona]
    url = fill(pattern, path_values(world, persona, pattern))
    headers: dict[str, str] = {}
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if pattern.startswith("/api/"):
        if persona != "anon":
            headers["Authorization"] = f"Bearer {world.secrets[persona]}"
        if (method, pattern) in API_BODIES:
            kwargs["json"] = API_BODIES[method, pattern](world)
    elif method not in ("GET", "HEAD"):
        if (method, pattern) in MULTIPART_ROUTES:
            kwargs["files"] = {"file": ("", b"", "application/octet-stream")}
        kwargs["data"] = {"_csrf_token": client.csrf_token()}
    if htmx:
        headers["HX-Request"] = "true"
    return client.request(method, url, headers=headers, **kwargs)


def is_api(pattern: str) -> bool:
    return pattern.startswith("/api/")


def is_page(method: str, pattern: str) -> bool:
    return method == "GET" and not pattern.startswith(("/api/", "/static/", "/schema", "/healthz"))


@pytest.mark.parametrize(("method", "pattern"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_persona_gets_the_answer_the_matrix_gives(method: str, pattern: str, world: World) -> None:
    expected = MATRIX.get((method, pattern))
    if expected is None:
        pytest.fail(
            f"{method} {pattern} is served by the app but has no row in MATRIX_TABLE "
            f"({__name__}): add a row saying what each of {', '.join(PERSONAS)} gets there."
        )
    wrong: list[str] = []
    for persona in ORDER:
        answers = [("", ask(world, persona, method, pattern))]
        if is_page(method, pattern):
            answers.append((" (htmx)", ask(world, persona, method, pattern, htmx=True)))
        for variant, response in answers:
            got = classify(response)
            if got not in expected[persona]:
                right = " or ".join(sorted(expected[persona]))
                wrong.append(f"{persona}{variant}: expected {right}, got {got} ({describe(response)})")
            json_body = response.headers.get("content-type", "").startswith("application/json")
            if is_api(pattern) and response.status_code >= 400 and not json_body:
                wrong.append(f"{persona}{variant}: the API refused with a page, not a JSON error body")
            if persona in OUTSIDERS:
                body = response.text
                leaked = [text for text in PRIVATE_TEXTS if text in body]
                if leaked:
                    wrong.append(f"{persona}{variant}: the answer shows organisation A's private {leaked}")
    assert not wrong, f"{method} {pattern}:\n  " + "\n  ".join(wrong)


def test_every_row_of_the_matrix_names_a_route_the_app_serves() -> None:
    stale = sorted(set(MATRIX) - set(ROUTES))
    assert stale == [], f"rows for routes the app no longer serves, remove or rename them: {stale}"


def test_the_private_texts_are_on_the_pages_of_those_who_may_see_them(world: World) -> None:
    """Keeps the leak check above honest: it looks for texts these pages really show."""
    officer = world.clients["officer"]
    a = world.org_a.id

    assert ORG_A_NAME in officer.get("/organisations").text
    assert CONTACT_NAME in officer.get(f"/organisations/{a}/contacts").text
    assert ACTIVITY_SUMMARY in officer.get(f"/organisations/{a}/activities").text
