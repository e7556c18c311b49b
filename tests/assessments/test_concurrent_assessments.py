"""Several people at once on the capacity self-assessment, against a real `crm serve --workers 2`, on SQLite and
on PostgreSQL: representatives autosaving their answers side by side, one representative in several tabs,
two officers reviewing a submitted round, and the organisation and its officers editing the action plan.
Nobody gets a 500, every acknowledged write is in the database, and where two people change the same
versioned record from the same version, one wins and the others are answered 409.

The server, the clients and the checks come from bench/concurrent_users.py (as tests/test_concurrent_users.py);
the rounds are built with the assessment service before the server starts."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import concurrent_users as load
from crm.accounts import service as accounts
from crm.accounts.passwords import hash_password
from crm.assessments import service
from crm.assessments.framework import parse_framework
from crm.assessments.models import AssessmentAnswer, Choice, PlanAction
from crm.db.engine import session_scope
from crm.organisations import service as organisations
from crm.organisations.schemas import OrganisationIn
from crm.seeding import SEEDS_DIR
from tests.test_concurrent_users import run

FRAMEWORK_FILE = SEEDS_DIR / "frameworks" / "diaspora-capacity-v1.json"
HTMX = {"HX-Request": "true"}
LEVELS = [choice.value for choice in Choice]  # 1..4, na, dk

OFFICER_A = "officer.a@concurrent.example.org"
OFFICER_B = "officer.b@concurrent.example.org"
# Representatives of the organisation answering: two through the pages, one through the API, side by side;
# one more opens the same questions in several tabs.
FIRST_REP = "first.rep@concurrent.example.org"
SECOND_REP = "second.rep@concurrent.example.org"
API_REP = "api.rep@concurrent.example.org"
TABS_REP = "tabs.rep@concurrent.example.org"
# The respondent of the round waiting for validation, and a representative of the organisation planning.
REVIEWED_REP = "reviewed.rep@concurrent.example.org"
PLANNER = "planner.rep@concurrent.example.org"
SIGNED_IN = (OFFICER_A, OFFICER_B, FIRST_REP, SECOND_REP, TABS_REP, PLANNER)
WITH_TOKENS = (OFFICER_A, OFFICER_B, API_REP, TABS_REP)

# Which of the framework's 42 indicators (in questionnaire order) each scenario uses.
SIDE_BY_SIDE = range(0, 16)
TABS_EXISTING = range(20, 23)  # answered once before the tabs race
TABS_FIRST = range(23, 26)  # never answered before the tabs race
REVIEWED_APART = range(0, 10)
REVIEWED_NEW = range(10, 24)  # no review before both officers review it
REVIEWED_AGAIN = range(24, 42)  # reviewed by officer A before both officers review it again
RACED_ACTIONS = 2
APART_ACTIONS = 6


# The database, prepared before the server starts ---------------------------------------------------------


@dataclass
class Arranged:
    indicators: list[int]
    domains: list[int]
    open_round: int
    responses: dict[str, int]
    submitted_round: int
    validated_round: int
    actions: list[int]
    user_ids: dict[str, int]
    tokens: dict[str, str]


def arrange(url: str) -> Arranged:
    """Three new organisations on the v1 framework: one answering its open round (four representatives, a
    draft response each), one whose round waits for validation, one with a validated round and a plan."""
    password_hash = hash_password(load.PASSWORD)
    with session_scope(url) as session:
        framework, _ = service.load_framework(session, parse_framework(FRAMEWORK_FILE.read_bytes()))
        shape = service.structure(session, framework)
        indicators = shape.all_indicators()

        def organisation(name: str) -> Any:
            return organisations.create_organisation(
                session, OrganisationIn(name=name, origin_country="SN", residence_country="FR")
            )

        def user(email: str, role: str, organisation_id: int | None = None) -> Any:
            return accounts.create_user(
                session,
                email,
                load.PASSWORD,
                [role],
                full_name=email.split("@")[0],
                password_hash=password_hash,
                organisation_id=organisation_id,
            )

        officer_a = user(OFFICER_A, "liaison_officer")
        officer_b = user(OFFICER_B, "liaison_officer")
        answering = organisation("Concurrent Answering Association")
        reviewed = organisation("Concurrent Reviewed Association")
        planning = organisation("Concurrent Planning Association")
        session.flush()
        reps = {
            email: user(email, "org_representative", answering.id)
            for email in (FIRST_REP, SECOND_REP, API_REP, TABS_REP)
        }
        reviewed_rep = user(REVIEWED_REP, "org_representative", reviewed.id)
        planner = user(PLANNER, "org_representative", planning.id)
        session.flush()

        open_round = service.start_round(session, answering, reps[FIRST_REP], framework, date.today())
        responses = {email: service.response_of(session, open_round, rep) for email, rep in reps.items()}
        for n in TABS_EXISTING:
            service.save_answer(session, responses[TABS_REP], indicators[n], Choice("1"), "before", None)

        submitted = _answered_round(session, reviewed, reviewed_rep, framework, shape)
        for n in REVIEWED_AGAIN:
            service.review_indicator(session, submitted, indicators[n], 1, "before", officer_a, None)

        validated = _answered_round(session, planning, planner, framework, shape)
        service.validate_round(session, validated, officer_a, None, shape)
        actions = [
            service.add_action(
                session, validated, domain_id=shape.domains[n % len(shape.domains)].id, title=f"Action {n}"
            )
            for n in range(RACED_ACTIONS + APART_ACTIONS)
        ]
        users = {
            **reps,
            OFFICER_A: officer_a,
            OFFICER_B: officer_b,
            REVIEWED_REP: reviewed_rep,
            PLANNER: planner,
        }
        tokens = {
            email: accounts.create_api_token(session, users[email], "concurrent").secret
            for email in WITH_TOKENS
        }
        session.flush()
        return Arranged(
            indicators=[i.id for i in indicators],
            domains=[d.id for d in shape.domains],
            open_round=open_round.id,
            responses={email: response.id for email, response in responses.items()},
            submitted_round=submitted.id,
            validated_round=validated.id,
            actions=[action.id for action in actions],
            user_ids={email: u.id for email, u in users.items()},
            tokens=tokens,
        )


def _answered_round(session: Any, organisation: Any, respondent: Any, framework: Any, shape: Any) -> Any:
    """A round answered in full by one respondent, submitted, and sent for validation."""
    round_ = service.start_round(session, organisation, respondent, framework, date.today())
    response = service.response_of(session, round_, respondent)
    for n, indicator in enumerate(shape.all_indicators()):
        service.save_answer(session, response, indicator, Choice(str(n % 4 + 1)), None, None)
    service.submit_response(session, response, shape)
    service.submit_round(session, round_, shape)
    return round_


# The server ----------------------------------------------------------------------------------------------


@dataclass
class Served:
    base: str
    url: str
    workdir: Path
    arranged: Arranged
    sessions: dict[str, dict[str, str]]
    tracebacks_before: int = 0

    def new_tracebacks(self) -> list[str]:
        return load.server_log_errors(self.workdir)[self.tracebacks_before :]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    postgres_url = None
    if request.param == "postgresql":
        postgres_url = load.os.environ.get("CRM_TEST_POSTGRES_URL")
        if not postgres_url:
            pytest.skip("CRM_TEST_POSTGRES_URL is not set")
    workdir = tmp_path_factory.mktemp(f"concurrent-assessments-{request.param}")
    with load.fresh_database(request.param, workdir, postgres_url) as url:
        arranged = arrange(url)
        with load.running_server(url, workdir) as base:
            sessions = run(_sign_in_all(base))
            yield Served(base, url, workdir, arranged, sessions)


@pytest.fixture(autouse=True)
def _traceback_baseline(served: Served) -> None:
    """Where the server log stands as the test begins: each test then checks that it added no traceback
    (a 500 a client might miss)."""
    served.tracebacks_before = len(load.server_log_errors(served.workdir))


async def _sign_in_all(base: str) -> dict[str, dict[str, str]]:
    signed = await asyncio.gather(*(load.sign_in(base, email) for email in SIGNED_IN))
    assert [status for status, _ in signed] in ([302] * len(SIGNED_IN), [303] * len(SIGNED_IN)), signed
    return {email: cookies for email, (_, cookies) in zip(SIGNED_IN, signed, strict=True)}


# The clients ---------------------------------------------------------------------------------------------


def page_headers(served: Served, email: str) -> dict[str, str]:
    """What htmx sends from a signed-in page: the session cookie and the page's CSRF token."""
    cookies = served.sessions[email]
    return {**load.cookie_header(cookies), **HTMX, "x-csrftoken": cookies["csrftoken"]}


def api_headers(served: Served, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {served.arranged.tokens[email]}"}


@dataclass
class Sent:
    """One request of a burst: who sent what, and the answer."""

    who: str
    key: int
    value: tuple[Any, ...]
    status: int = 0
    version: int | None = None
    body: str = ""


async def at_once(served: Served, requests: list[tuple[Sent, Any]]) -> list[Sent]:
    """Send every request at once, each on a connection of its own, and record the answers."""

    async def one(client: httpx.AsyncClient, sent: Sent, make: Any) -> Sent:
        response = await make(client)
        sent.status, sent.body = response.status_code, response.text[:2000]
        sent.version = _version_in(response, sent.key)
        return sent

    limits = httpx.Limits(max_connections=len(requests) + 4)
    async with httpx.AsyncClient(base_url=served.base, timeout=60, limits=limits) as client:
        coroutines: list[Awaitable[Sent]] = [one(client, sent, make) for sent, make in requests]
        return list(await asyncio.gather(*coroutines))


def _version_in(response: httpx.Response, key: int) -> int | None:
    if response.status_code != 200:
        return None
    if response.headers.get("content-type", "").startswith("application/json"):
        version = response.json().get("version")
        return int(version) if version is not None else None
    found = re.search(rf'id="version-{key}" value="(\d+)"', response.text)
    return int(found.group(1)) if found else None


def statuses(sent: list[Sent]) -> Counter[int]:
    return Counter(s.status for s in sent)


def refusals(sent: list[Sent], allowed: set[int]) -> list[str]:
    return [
        f"{s.who} {s.key} {s.value}: HTTP {s.status} {s.body[:300]}" for s in sent if s.status not in allowed
    ]


def autosave(
    served: Served, email: str, indicator: int, choice: str, evidence: str, version: int | None
) -> Any:
    response = served.arranged.responses[email]
    data = {
        f"choice-{indicator}": choice,
        f"evidence-{indicator}": evidence,
        f"version-{indicator}": version or "",
    }
    headers = page_headers(served, email)
    return lambda client: client.post(
        f"/assessments/responses/{response}/answers/{indicator}", data=data, headers=headers
    )


def api_answer(
    served: Served, email: str, indicator: int, choice: str, evidence: str, version: int | None
) -> Any:
    url = f"/api/v1/assessments/{served.arranged.open_round}/answers/{indicator}"
    body = {"choice": choice, "evidence": evidence, "version": version}
    headers = api_headers(served, email)
    return lambda client: client.put(url, json=body, headers=headers)


def stored_answers(served: Served, email: str) -> dict[int, AssessmentAnswer]:
    with session_scope(served.url) as session:
        return service.answers_of(session, served.arranged.responses[email])


def assert_no_new_traceback(served: Served) -> None:
    assert served.new_tracebacks() == [], "the server logged a traceback"


# 1. Representatives autosaving side by side ----------------------------------------------------------


def test_representatives_autosaving_their_own_answers_at_once_all_land(served: Served) -> None:
    indicators = [served.arranged.indicators[n] for n in SIDE_BY_SIDE]
    savers = {FIRST_REP: autosave, SECOND_REP: autosave, API_REP: api_answer}
    offsets = {FIRST_REP: 0, SECOND_REP: 3, API_REP: 5}

    def burst(wave: int, versions: dict[tuple[str, int], int | None]) -> list[Sent]:
        requests = []
        for email, save in savers.items():
            for n, indicator in enumerate(indicators):
                choice = LEVELS[(n + offsets[email] + wave) % len(LEVELS)]
                evidence = f"{email} wave {wave} indicator {indicator}"
                sent = Sent(email, indicator, (choice, evidence))
                requests.append(
                    (sent, save(served, email, indicator, choice, evidence, versions[email, indicator]))
                )
        return run(at_once(served, requests))

    # First every answer is new (no version); then each is changed from the version its save answered.
    first = burst(0, {(email, i): None for email in savers for i in indicators})
    assert refusals(first, {200}) == []
    second = burst(1, {(s.who, s.key): s.version for s in first})
    assert refusals(second, {200}) == []

    for email in savers:
        stored = stored_answers(served, email)
        acknowledged = {s.key: s for s in second if s.who == email}
        assert set(stored) == set(indicators)
        for indicator, sent in acknowledged.items():
            answer = stored[indicator]
            assert (answer.choice, answer.evidence, answer.version) == (*sent.value, sent.version), email
            assert sent.version == next(s.version for s in first if (s.who, s.key) == (email, indicator)) + 1
    assert_no_new_traceback(served)


# 2. One representative, several tabs, the same answer ------------------------------------------------


@pytest.mark.parametrize("answered_before", [True, False], ids=["existing answer", "first answer"])
def test_the_same_answer_saved_from_several_tabs_at_once_gives_one_success_and_conflicts(
    served: Served, answered_before: bool
) -> None:
    arranged = served.arranged
    indicators = [arranged.indicators[n] for n in (TABS_EXISTING if answered_before else TABS_FIRST)]
    before = stored_answers(served, TABS_REP)
    requests = []
    for indicator in indicators:
        seen = before[indicator].version if answered_before else None
        # Three tabs of the questionnaire and one API client, all from the version the page showed.
        for tab, choice in enumerate(("2", "3", "4", "na")):
            save = api_answer if tab == 3 else autosave
            sent = Sent(f"tab {tab}", indicator, (choice, f"tab {tab}"))
            requests.append((sent, save(served, TABS_REP, indicator, choice, f"tab {tab}", seen)))

    sent = run(at_once(served, requests))

    assert refusals(sent, {200, 409}) == []
    stored = stored_answers(served, TABS_REP)
    for indicator in indicators:
        mine = [s for s in sent if s.key == indicator]
        assert statuses(mine) == Counter({200: 1, 409: 3}), [(s.who, s.status) for s in mine]
        (won,) = [s for s in mine if s.status == 200]
        answer = stored[indicator]
        assert (answer.choice, answer.evidence, answer.version) == (*won.value, won.version)
        assert won.version == (before[indicator].version + 1 if answered_before else 1)
    assert_no_new_traceback(served)


# 3. Two officers reviewing the submitted round --------------------------------------------------------


def review_page(
    served: Served, email: str, indicator: int, level: int, comment: str, seen: int | None
) -> Any:
    """The validation page's review form of one indicator, with the review's version the page showed."""
    url = f"/assessments/{served.arranged.submitted_round}/reviews/{indicator}"
    data = {"level": str(level), "comment": comment, "version": str(seen or "")}
    headers = page_headers(served, email)
    return lambda client: client.post(url, data=data, headers=headers)


def review_api(served: Served, email: str, indicator: int, level: int, comment: str, seen: int | None) -> Any:
    url = f"/api/v1/assessments/{served.arranged.submitted_round}/reviews/{indicator}"
    body = {"level": level, "comment": comment, "version": seen}
    headers = api_headers(served, email)
    return lambda client: client.put(url, json=body, headers=headers)


def stored_reviews(served: Served) -> dict[int, tuple[int, str, int | None, int]]:
    """Indicator → (level, comment, officer id, version) of the submitted round's reviews."""
    with session_scope(served.url) as session:
        return {
            indicator: (review.level, review.comment, review.officer_id, review.version)
            for indicator, review in service.reviews_of(session, served.arranged.submitted_round).items()
        }


def test_two_officers_reviewing_different_indicators_at_once_all_land(served: Served) -> None:
    arranged = served.arranged
    requests = []
    for n in REVIEWED_APART:
        indicator = arranged.indicators[n]
        officer = (OFFICER_A, OFFICER_B)[n % 2]
        review = review_api if n % 3 == 0 else review_page
        level, comment = n % 4 + 1, f"{officer} on {indicator}"
        requests.append(
            (
                Sent(officer, indicator, (level, comment)),
                review(served, officer, indicator, level, comment, None),
            )
        )

    sent = run(at_once(served, requests))

    assert refusals(sent, {200}) == []
    stored = stored_reviews(served)
    for s in sent:
        assert stored[s.key] == (*s.value, arranged.user_ids[s.who], 1)
    assert_no_new_traceback(served)


@pytest.mark.parametrize("reviewed_before", [True, False], ids=["reviewed again", "first review"])
def test_two_officers_reviewing_the_same_indicator_at_once_give_one_success_and_a_conflict(
    served: Served, reviewed_before: bool
) -> None:
    """Both from the review they read (none, or officer A's earlier one): one is saved, the other is answered
    409, and the stored review is the acknowledged one, whole (level, comment and officer together).

    Before reviews had a version, PostgreSQL answered the second first review 500 (a unique violation) and,
    when officer A's update waited for officer B's, stored A's level and comment under B's name: many
    indicators, each with officer B on the page and officer A through the API, catch either every time."""
    arranged = served.arranged
    indicators = [arranged.indicators[n] for n in (REVIEWED_AGAIN if reviewed_before else REVIEWED_NEW)]
    before = stored_reviews(served)
    requests = []
    for indicator in indicators:
        seen = before[indicator][3] if reviewed_before else None
        for officer, review, level in ((OFFICER_B, review_page, 2), (OFFICER_A, review_api, 3)):
            comment = f"{officer} on {indicator}"
            requests.append(
                (
                    Sent(officer, indicator, (level, comment)),
                    review(served, officer, indicator, level, comment, seen),
                )
            )

    sent = run(at_once(served, requests))

    assert refusals(sent, {200, 409}) == []
    stored = stored_reviews(served)
    for indicator in indicators:
        mine = [s for s in sent if s.key == indicator]
        assert statuses(mine) == Counter({200: 1, 409: 1}), [(s.who, s.status) for s in mine]
        (won,) = [s for s in mine if s.status == 200]
        version = before[indicator][3] + 1 if reviewed_before else 1
        assert stored[indicator] == (*won.value, arranged.user_ids[won.who], version)
    assert_no_new_traceback(served)


# 4. The action plan, changed by several people at once ------------------------------------------------


def edit_action(served: Served, email: str, action: int, domain: int, title: str, version: int) -> Any:
    data = {"title": title, "domain_id": str(domain), "status": "in_progress", "version": str(version)}
    headers = page_headers(served, email)
    return lambda client: client.post(f"/assessments/actions/{action}", data=data, headers=headers)


def add_action(served: Served, email: str, domain: int, title: str) -> Any:
    data = {"title": title, "domain_id": str(domain), "status": "planned"}
    headers = page_headers(served, email)
    url = f"/assessments/{served.arranged.validated_round}/actions"
    return lambda client: client.post(url, data=data, headers=headers)


def stored_actions(served: Served) -> dict[int, PlanAction]:
    with session_scope(served.url) as session:
        return {a.id: a for a in service.actions_of(session, served.arranged.validated_round)}


def test_the_same_action_edited_by_several_people_at_once_gives_one_success_and_conflicts(
    served: Served,
) -> None:
    arranged = served.arranged
    before = stored_actions(served)
    targets = arranged.actions[:RACED_ACTIONS]
    requests = []
    for action in targets:
        seen = before[action]
        # Both officers and the organisation's representative in two tabs, from the same version.
        for n, editor in enumerate((OFFICER_A, OFFICER_B, PLANNER, PLANNER)):
            title = f"{action} by {editor} in tab {n}"
            requests.append(
                (
                    Sent(editor, action, (title,)),
                    edit_action(served, editor, action, seen.domain_id, title, seen.version),
                )
            )

    sent = run(at_once(served, requests))

    assert refusals(sent, {200, 409}) == []
    stored = stored_actions(served)
    for action in targets:
        mine = [s for s in sent if s.key == action]
        assert statuses(mine) == Counter({200: 1, 409: 3}), [(s.who, s.status) for s in mine]
        (won,) = [s for s in mine if s.status == 200]
        assert (stored[action].title, stored[action].version) == (won.value[0], before[action].version + 1)
    assert_no_new_traceback(served)


def test_different_actions_edited_and_added_at_once_all_land(served: Served) -> None:
    arranged = served.arranged
    before = stored_actions(served)
    editors = (OFFICER_A, OFFICER_B, PLANNER)
    requests = []
    for n, action in enumerate(arranged.actions[RACED_ACTIONS:]):
        editor, seen = editors[n % 3], before[action]
        title = f"apart {action} by {editor}"
        requests.append(
            (
                Sent(editor, action, (title,)),
                edit_action(served, editor, action, seen.domain_id, title, seen.version),
            )
        )
    added = [f"added by {editor} at once" for editor in editors]
    for n, (editor, title) in enumerate(zip(editors, added, strict=True)):
        requests.append((Sent(editor, 0, (title,)), add_action(served, editor, arranged.domains[n], title)))

    sent = run(at_once(served, requests))

    edits, adds = [s for s in sent if s.key], [s for s in sent if not s.key]
    assert refusals(edits, {200}) == []
    assert refusals(adds, {204}) == []
    stored = stored_actions(served)
    for s in edits:
        assert (stored[s.key].title, stored[s.key].version) == (s.value[0], before[s.key].version + 1)
    assert sorted(a.title for a in stored.values() if a.id not in before) == sorted(added)
    assert_no_new_traceback(served)
