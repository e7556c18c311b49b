"""Subscribing to calendar feeds: the panel's addresses, a new address ends the old one, stopping one, and
the feeds a person may not hold."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.training import service, subscribe
from crm.training.models import FeedScope, Programme
from tests.conftest import SECRET, Client

FEED = re.compile(r"(https?://[^\s<\"]+/calendars/[^\s<\"/]+/sessions\.ics)")


@pytest.fixture
def programme(db: Session, trainer: User) -> Programme:
    programme = service.create_programme(
        db,
        title="Bookkeeping circle",
        description="",
        lead_organisation_id=None,
        places=None,
        domains=[],
        trainers=[trainer.id],
        created_by=trainer,
        status="planned",
    )
    db.commit()
    return programme


def address_on(page: str) -> str:
    found = FEED.search(page)
    assert found, "no feed address on the page"
    return found.group(1)


def feed_path(url: str) -> str:
    return urlsplit(url).path


def test_the_panel_offers_an_address_once_asked(db: Session, login: Any, trainer: User) -> None:
    client: Client = login(trainer)

    assert "Get a calendar address" in client.get("/training/my-calendar").text
    response = client.submit(
        f"/training/feeds/mine/{trainer.id}/renew", {"next": "/training/my-calendar"}, follow_redirects=False
    )

    assert response.status_code == 303 and response.headers["location"] == "/training/my-calendar"
    page = client.get("/training/my-calendar").text
    url = address_on(page)
    assert "webcal://" + url.split("://", 1)[1] in page
    assert "https://outlook.live.com/calendar/0/addfromweb?url=" in page
    assert "8 to 24 hours" in page
    assert client.get(feed_path(url)).status_code == 200


def test_a_new_address_makes_the_old_one_answer_404(db: Session, login: Any, trainer: User) -> None:
    client: Client = login(trainer)
    client.submit(f"/training/feeds/mine/{trainer.id}/renew")
    old = address_on(client.get("/training/my-calendar").text)

    client.submit(f"/training/feeds/mine/{trainer.id}/renew")
    new = address_on(client.get("/training/my-calendar").text)

    assert new != old
    assert client.get(feed_path(old)).status_code == 404
    assert client.get(feed_path(new)).status_code == 200


def test_stopping_an_address(db: Session, login: Any, trainer: User, programme: Programme) -> None:
    client: Client = login(trainer)
    client.submit(f"/training/feeds/programme/{programme.id}/renew")
    url = subscribe.subscribe_context(
        db, "http://testserver.local", SECRET, trainer, "programme", programme.id
    )
    assert client.get(feed_path(url["https_url"])).status_code == 200

    response = client.submit(f"/training/feeds/programme/{programme.id}/revoke", follow_redirects=False)

    assert response.status_code == 303
    assert client.get(feed_path(url["https_url"])).status_code == 404


def test_the_outlook_link_carries_the_address_and_name(db: Session, trainer: User) -> None:
    service.new_feed_token(db, trainer, FeedScope.MINE, None)

    context = subscribe.subscribe_context(
        db, "https://crm.example.org", "k" * 40, trainer, "mine", trainer.id
    )

    query = parse_qs(urlsplit(context["outlook_url"]).query)
    assert query["url"] == [context["https_url"]]
    assert query["name"] == ["My training sessions"]
    assert context["https_url"].startswith("https://crm.example.org/calendars/")
    assert context["webcal_url"].startswith("webcal://crm.example.org/calendars/")


@pytest.mark.parametrize(
    ("scope", "whose"),
    [
        ("programme", "programme"),
        ("trainer", "other"),
        ("organisation", "other_org"),
        ("mine", "other"),
        ("nonsense", "self"),
    ],
)
def test_feeds_one_may_not_hold_are_refused(
    db: Session,
    login: Any,
    make_user: Any,
    make_organisation: Any,
    make_representative: Any,
    programme: Programme,
    scope: str,
    whose: str,
) -> None:
    own = make_organisation("Own network")
    representative = make_representative(own)
    ids = {
        "programme": programme.id,  # planned, and not theirs: not visible
        "other": make_user("trainer").id,
        "other_org": make_organisation("Another network").id,
        "self": representative.id,
    }
    client = login(representative)

    for action in ("renew", "revoke"):
        assert client.submit(f"/training/feeds/{scope}/{ids[whose]}/{action}").status_code == 404


def test_a_representative_holds_its_organisations_feed_and_staff_any_trainers(
    login: Any, officer: User, trainer: User, make_organisation: Any, make_representative: Any
) -> None:
    own = make_organisation("Own network")
    representative = make_representative(own)

    assert login(representative).submit(f"/training/feeds/organisation/{own.id}/renew").status_code == 200
    assert login(officer).submit(f"/training/feeds/trainer/{trainer.id}/renew").status_code == 200
