"""The results and validation pages run a fixed number of SQL statements, however many rounds, respondents,
answers, actions and peers the database holds: each page is measured, then measured again after much more was
added, and the counts must be equal and stay under a bound (so an added query per request shows up here too)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import recommendations, service
from crm.assessments.models import AssessmentRound, Framework
from crm.organisations.models import Organisation

# Statements per request as measured (SQLite counts a BEGIN per transaction; PostgreSQL does not): the
# signed-in user, the round, its organisation, the framework's domains and indicators, answers and reviews
# (scores), the previous comparable round with its own answers and reviews, reviews again (comments), officers'
# names, respondents (officer only), the plan's actions, the previous plan's actions, the peers.
BOUNDS = {"results (officer)": 20, "results (representative)": 18, "validation": 13}


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


@contextmanager
def counting(engine: Engine) -> Iterator[Counter]:
    counter = Counter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def answered_by(
    db: Session, organisation: Organisation, framework: Framework, people: list[User], choice: str, on: date
) -> AssessmentRound:
    round_ = service.start_round(db, organisation, people[0], framework, on)
    shape = service.structure(db, framework)
    for person in people:
        response = service.response_of(db, round_, person, role="Member")
        for indicator in shape.all_indicators():
            service.save_answer(db, response, indicator, service.Choice(choice), "Evidence", None)
        service.submit_response(db, response, shape)
    service.submit_round(db, round_, shape)
    db.commit()
    return round_


def validate(db: Session, round_: AssessmentRound, officer: User, framework: Framework) -> None:
    shape = service.structure(db, framework)
    first = shape.all_indicators()[0]
    service.review_indicator(db, round_, first, 1, "Not shown", officer, None)
    service.validate_round(db, round_, officer, None, shape)
    db.commit()


def add_plan(db: Session, round_: AssessmentRound, framework: Framework, count: int) -> None:
    domains = service.structure(db, framework).domains
    for n in range(count):
        service.add_action(db, round_, domain_id=domains[n % len(domains)].id, title=f"Action {n}")
    db.commit()


@pytest.fixture
def world(
    db: Session,
    make_organisation: Any,
    make_representative: Any,
    framework: Framework,
    officer: User,
) -> dict[str, Any]:
    """An organisation with an earlier validated round (with a plan), a validated round measured, and a round
    submitted for validation; three respondents each; one consenting peer strong everywhere."""
    organisation = make_organisation("Measured Organisation")
    people = [make_representative(organisation) for _ in range(3)]
    earlier = answered_by(db, organisation, framework, people, "2", date(2024, 3, 1))
    validate(db, earlier, officer, framework)
    add_plan(db, earlier, framework, 3)
    measured = answered_by(db, organisation, framework, people, "3", date(2025, 3, 1))
    validate(db, measured, officer, framework)
    add_plan(db, measured, framework, 3)
    add_peers(db, make_organisation, make_representative, framework, officer, 1, start=0)
    pending = answered_by(db, organisation, framework, people, "2", date(2026, 3, 1))
    return {"organisation": organisation, "people": people, "measured": measured, "pending": pending}


def add_peers(
    db: Session,
    make_organisation: Any,
    make_representative: Any,
    framework: Framework,
    officer: User,
    count: int,
    start: int,
) -> None:
    """Organisations with rounds of their own: two validated rounds each, two respondents, mature everywhere."""
    for n in range(start, start + count):
        peer = make_organisation(f"Peer {n:03d}")
        peer.peer_trainer_consent = n % 2 == 0
        people = [make_representative(peer) for _ in range(2)]
        for year, choice in ((2023, "2"), (2024, "4")):
            round_ = answered_by(db, peer, framework, people, choice, date(year, 1, 1))
            validate(db, round_, officer, framework)
            add_plan(db, round_, framework, 2)


def measure(login: Any, engine: Engine, officer: User, world: dict[str, Any]) -> dict[str, int]:
    pages = {
        "results (officer)": (login(officer), f"/assessments/{world['measured'].id}/results"),
        "results (representative)": (
            login(world["people"][0]),
            f"/assessments/{world['measured'].id}/results",
        ),
        "validation": (login(officer), f"/assessments/{world['pending'].id}/validate"),
    }
    counts = {}
    for name, (client, url) in pages.items():
        client.get(url)  # the first request also opens connections and reads server settings
        with counting(engine) as counted:
            response = client.get(url)
        assert response.status_code == 200, (name, response.text)
        counts[name] = counted.count
    return counts


def test_results_and_validation_queries_do_not_grow_with_the_data(
    db: Session,
    engine: Engine,
    login: Any,
    officer: User,
    make_organisation: Any,
    make_representative: Any,
    framework: Framework,
    world: dict[str, Any],
) -> None:
    few = measure(login, engine, officer, world)

    add_peers(db, make_organisation, make_representative, framework, officer, 12, start=100)
    add_plan(db, world["measured"], framework, 20)
    many = measure(login, engine, officer, world)

    assert many == few
    over = {name: (count, BOUNDS[name]) for name, count in many.items() if count > BOUNDS[name]}
    assert not over, f"more statements than allowed (count, bound): {over}"


def test_the_measured_results_page_shows_everything_it_was_given(
    db: Session,
    login: Any,
    officer: User,
    make_organisation: Any,
    make_representative: Any,
    framework: Framework,
    world: dict[str, Any],
) -> None:
    add_peers(db, make_organisation, make_representative, framework, officer, 12, start=100)
    add_plan(db, world["measured"], framework, 20)

    page = login(world["people"][0]).get(f"/assessments/{world['measured'].id}/results").text

    assert page.count('<li id="action-') == 23
    assert "How many respondents chose each answer" in page
    # Peers listed per weak domain are capped; a non-consenting one (odd numbers) never shows.
    section = page[page.index('<section id="recommendations"') :]
    section = section[: section.index("</section>")]
    lists = re.findall(r"<ul.*?</ul>", section, re.S)
    shown = [re.findall(r"Peer (\d{3})", items) for items in lists]
    assert shown and all(0 < len(peers) <= recommendations.PEERS_PER_DOMAIN for peers in shown), shown
    assert all(int(number) % 2 == 0 for peers in shown for number in peers), shown
