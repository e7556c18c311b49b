"""The programme pages as their users meet them: the list and a programme's page show what each may see, only
those who run a programme change it, enrolment fills the places then the waiting list, a withdrawal hands the
place on, two editors at once never overwrite each other, and the pages cost a fixed number of statements."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.assessments import service as assessments
from crm.assessments.framework import parse_framework
from crm.db.base import utcnow
from crm.organisations.models import Organisation
from crm.training import service
from crm.training.models import EnrolmentStatus, Programme, ProgrammeStatus
from tests.assessments.conftest import encode, framework_document
from tests.assessments.test_results_queries import counting


@pytest.fixture
def framework(db: Session) -> None:
    """The capacity framework whose domains programmes target (governance, finance, digital)."""
    assessments.load_framework(db, parse_framework(encode(framework_document())))
    db.commit()


@pytest.fixture
def lead(make_organisation: Any) -> Organisation:
    return make_organisation("Finance Peers Network")


def programme_of(
    db: Session,
    trainer: User,
    lead: Organisation,
    status: ProgrammeStatus = ProgrammeStatus.OPEN,
    places: int | None = None,
    title: str = "Bookkeeping for associations",
) -> Programme:
    programme = service.create_programme(
        db,
        title=title,
        description="Six evenings on simple, honest accounts.",
        lead_organisation_id=lead.id,
        places=places,
        domains=["finance"],
        trainers=[trainer.id],
        created_by=trainer,
        status=status.value,
    )
    db.commit()
    return programme


def reread(db: Session) -> None:
    db.rollback()
    db.expire_all()


def statuses(db: Session, programme: Programme) -> dict[int, str]:
    reread(db)
    return {e.organisation_id: e.status for e in service.enrolments_of(db, programme.id)}


# Seeing ---------------------------------------------------------------------------------------------------


def test_another_organisations_representative_cannot_open_a_programme_being_planned(
    db: Session,
    login: Any,
    trainer: User,
    lead: Organisation,
    make_organisation: Any,
    make_representative: Any,
) -> None:
    planned = programme_of(db, trainer, lead, ProgrammeStatus.PLANNED, title="Quiet planning circle")
    outsider = login(make_representative(make_organisation("Other Association")))

    assert outsider.get(f"/training/programmes/{planned.id}").status_code == 404
    assert outsider.submit(f"/training/programmes/{planned.id}/enrolments").status_code == 404
    assert "Quiet planning circle" not in outsider.get("/training/programmes").text
    # Its lead organisation's representative sees it; so does the government side.
    assert login(make_representative(lead)).get(f"/training/programmes/{planned.id}").status_code == 200


def test_the_list_shows_open_programmes_to_every_role_and_filters_them(
    db: Session, login: Any, trainer: User, officer: User, lead: Organisation, framework: None
) -> None:
    programme_of(db, trainer, lead, ProgrammeStatus.OPEN, title="Open bookkeeping")
    running = programme_of(db, trainer, lead, ProgrammeStatus.RUNNING, title="Running governance")
    service.set_domains(db, running, ["governance"])
    db.commit()
    client = login(officer)

    page = client.get("/training/programmes").text
    assert page.index("Open bookkeeping") < page.index("Running governance")
    assert "New programme" in page
    only = client.get("/training/programmes?domain=governance").text
    assert "Running governance" in only and "Open bookkeeping" not in only
    fragment = client.hx_get("/training/programmes?status=finished").text
    assert "No programme matches these filters." in fragment and "<html" not in fragment


def test_a_trainer_does_not_learn_the_name_of_an_organisation_that_did_not_consent(
    db: Session, login: Any, trainer: User, make_organisation: Any
) -> None:
    private = make_organisation("Discreet Circle", consent_to_share=False)
    programme = programme_of(db, trainer, private, ProgrammeStatus.PLANNED)
    service.enrol(db, programme, private.id)
    db.commit()

    page = login(trainer).get(f"/training/programmes/{programme.id}").text

    assert "Discreet Circle" not in page
    assert "An organisation not listed in the public directory" in page


# Changing a programme -------------------------------------------------------------------------------------


def test_a_representative_cannot_create_or_edit_a_programme(
    db: Session, login: Any, trainer: User, lead: Organisation, make_representative: Any
) -> None:
    programme = programme_of(db, trainer, lead)
    client = login(make_representative(lead))

    assert client.get("/training/programmes/new").status_code == 403
    assert client.submit("/training/programmes/new", {"title": "Mine"}).status_code == 403
    assert client.get(f"/training/programmes/{programme.id}/edit").status_code == 403
    refused = client.submit(
        f"/training/programmes/{programme.id}/edit",
        {"title": "Taken over", "status": "open", "version": str(programme.version)},
    )
    assert refused.status_code == 403
    reread(db)
    assert db.get(Programme, programme.id).title == "Bookkeeping for associations"


def test_a_trainer_of_another_programme_cannot_edit_this_one(
    db: Session, login: Any, trainer: User, lead: Organisation, make_user: Any
) -> None:
    programme = programme_of(db, trainer, lead)
    other = login(make_user("trainer", email="other.trainer@example.org"))

    assert other.get(f"/training/programmes/{programme.id}").status_code == 200  # open: in the catalogue
    assert other.get(f"/training/programmes/{programme.id}/edit").status_code == 403
    refused = other.submit(
        f"/training/programmes/{programme.id}/edit",
        {"title": "Taken over", "status": "open", "version": str(programme.version)},
    )
    assert refused.status_code == 403


def test_a_trainer_creates_a_programme_they_run_led_by_their_organisation(
    db: Session, login: Any, lead: Organisation, make_representative: Any, framework: None
) -> None:
    trainer = make_representative(lead, "trainer", full_name="Tom Trainer")
    client = login(trainer)
    assert "Governance" in client.get("/training/programmes/new").text

    response = client.submit(
        "/training/programmes/new",
        {
            "title": "Treasurers' circle",
            "description": "Peer help",
            "domains": ["finance", "governance"],
            "places": "4",
            "status": "open",
            # Ignored: a trainer neither picks the lead organisation nor other trainers.
            "lead_organisation_id": "999",
            "trainers": ["999"],
        },
        follow_redirects=False,
    )

    assert response.status_code == 303, response.text
    reread(db)
    programme = db.get(Programme, int(response.headers["location"].rsplit("/", 1)[1]))
    assert programme is not None
    assert (programme.lead_organisation_id, programme.places, programme.status) == (lead.id, 4, "open")
    assert service.trainer_ids(db, programme.id) == {trainer.id}
    assert service.domain_codes(db, programme.id) == ["finance", "governance"]
    page = client.get(response.headers["location"]).text
    assert "Programme created." in page and "Schedule a session" in page


def test_the_form_refuses_what_it_did_not_offer(login: Any, officer: User, framework: None) -> None:
    client = login(officer)

    response = client.submit(
        "/training/programmes/new",
        {"title": "Line\nbreak", "domains": "astrology", "places": "0", "status": "planned"},
    )

    assert response.status_code == 422
    assert "Write this on one line." in response.text
    assert "This number is too small." in response.text
    response = client.submit(
        "/training/programmes/new", {"title": "Fine", "domains": "astrology", "status": "planned"}
    )
    assert response.status_code == 422
    assert "Choose domains from the capacity framework." in response.text


def test_two_edits_at_once_one_is_refused_and_nothing_is_overwritten(
    db: Session, login: Any, trainer: User, officer: User, lead: Organisation
) -> None:
    programme = programme_of(db, trainer, lead, places=5)
    first, second = login(trainer), login(officer)
    version = str(programme.version)
    for client in (first, second):
        assert (
            f'name="version" value="{version}"'
            in client.get(f"/training/programmes/{programme.id}/edit").text
        )

    saved = first.submit(
        f"/training/programmes/{programme.id}/edit",
        {"title": "Bookkeeping, spring term", "status": "open", "places": "6", "version": version},
        follow_redirects=False,
    )
    late = second.submit(
        f"/training/programmes/{programme.id}/edit",
        {
            "title": "Bookkeeping, autumn term",
            "status": "running",
            "places": "9",
            "version": version,
            "lead_organisation_id": str(lead.id),
            "trainers": str(trainer.id),
        },
    )

    assert saved.status_code == 303
    assert late.status_code == 409
    assert "Someone else changed this programme after you opened it." in late.text
    # The form now holds theirs (and the new version); what this editor typed is echoed, unsaved.
    assert 'value="Bookkeeping, spring term"' in late.text
    assert "Yours, not saved: Bookkeeping, autumn term · Running · 9 places" in late.text
    reread(db)
    stored = db.get(Programme, programme.id)
    assert (stored.title, stored.places, stored.status) == ("Bookkeeping, spring term", 6, "open")
    assert f'name="version" value="{stored.version}"' in late.text


# Enrolment ------------------------------------------------------------------------------------------------


def test_enrolling_over_the_places_puts_the_organisation_on_the_waiting_list(
    db: Session,
    login: Any,
    trainer: User,
    lead: Organisation,
    make_organisation: Any,
    make_representative: Any,
) -> None:
    programme = programme_of(db, trainer, lead, places=1)
    first, second = make_organisation("First Association"), make_organisation("Second Association")

    page = login(make_representative(first)).submit(f"/training/programmes/{programme.id}/enrolments").text
    assert "First Association is enrolled." in page
    late = login(make_representative(second))
    assert "Enrol my organisation" in late.get(f"/training/programmes/{programme.id}").text
    page = late.submit(f"/training/programmes/{programme.id}/enrolments").text

    assert "The places are taken: Second Association is on the waiting list." in page
    assert "Your organisation is on the waiting list." in page
    assert statuses(db, programme) == {first.id: "enrolled", second.id: "waiting"}


def test_a_representative_cannot_enrol_in_a_programme_not_open_for_enrolment(
    db: Session, login: Any, trainer: User, lead: Organisation, make_representative: Any
) -> None:
    programme = programme_of(db, trainer, lead, ProgrammeStatus.PLANNED)
    client = login(make_representative(lead))

    assert "Enrol my organisation" not in client.get(f"/training/programmes/{programme.id}").text
    assert client.submit(f"/training/programmes/{programme.id}/enrolments").status_code == 403
    assert statuses(db, programme) == {}


def test_a_trainer_enrols_an_organisation_of_the_directory_only(
    db: Session, login: Any, trainer: User, lead: Organisation, make_organisation: Any
) -> None:
    programme = programme_of(db, trainer, lead)
    visible = make_organisation("Open Network")
    private = make_organisation("Discreet Circle", consent_to_share=False)
    client = login(trainer)
    page = client.get(f"/training/programmes/{programme.id}").text
    assert "Open Network" in page and "Discreet Circle" not in page

    refused = client.submit(
        f"/training/programmes/{programme.id}/enrolments", {"organisation_id": str(private.id)}
    )
    assert refused.status_code == 422 and "Choose an organisation from the list." in refused.text
    done = client.submit(
        f"/training/programmes/{programme.id}/enrolments", {"organisation_id": str(visible.id)}
    )
    assert "Open Network is enrolled." in done.text
    assert statuses(db, programme) == {visible.id: "enrolled"}


def test_withdrawing_asks_first_then_gives_the_place_to_the_first_waiting(
    db: Session,
    login: Any,
    trainer: User,
    lead: Organisation,
    make_organisation: Any,
    make_representative: Any,
) -> None:
    programme = programme_of(db, trainer, lead, places=1)
    first, second, third = (make_organisation(f"Association {n}") for n in ("One", "Two", "Three"))
    enrolment = service.enrol(db, programme, first.id)
    for organisation in (second, third):
        service.enrol(db, programme, organisation.id)
    db.commit()
    client = login(make_representative(first))

    asked = client.submit(f"/training/enrolments/{enrolment.id}/withdraw")
    assert asked.status_code == 200
    assert "Withdraw Association One from this programme?" in asked.text
    assert statuses(db, programme)[first.id] == "enrolled"

    done = client.submit(f"/training/enrolments/{enrolment.id}/withdraw", {"confirmed": "true"})

    assert "Association One has withdrawn from the programme." in done.text
    assert "Association Two, first on the waiting list, takes the freed place." in done.text
    assert statuses(db, programme) == {first.id: "withdrawn", second.id: "enrolled", third.id: "waiting"}


def test_another_organisation_cannot_withdraw_or_name_participants_for_an_enrolment(
    db: Session,
    login: Any,
    trainer: User,
    lead: Organisation,
    make_organisation: Any,
    make_representative: Any,
) -> None:
    programme = programme_of(db, trainer, lead)
    member = make_organisation("Member Association")
    enrolment = service.enrol(db, programme, member.id)
    db.commit()
    other = login(make_representative(make_organisation("Other Association")))

    assert (
        other.submit(f"/training/enrolments/{enrolment.id}/withdraw", {"confirmed": "true"}).status_code
        == 403
    )
    assert (
        other.submit(
            f"/training/enrolments/{enrolment.id}/participants", {"full_name": "Intruder"}
        ).status_code
        == 403
    )
    assert statuses(db, programme) == {member.id: EnrolmentStatus.ENROLLED}
    assert "Intruder" not in login(trainer).get(f"/training/programmes/{programme.id}").text


def test_an_organisation_names_its_participants_which_only_it_and_the_trainers_see(
    db: Session,
    login: Any,
    trainer: User,
    lead: Organisation,
    make_organisation: Any,
    make_representative: Any,
) -> None:
    programme = programme_of(db, trainer, lead)
    member = make_organisation("Member Association")
    chair = make_representative(member, full_name="Awa Chair")
    enrolment = service.enrol(db, programme, member.id)
    db.commit()
    client = login(chair)

    added = client.submit(f"/training/enrolments/{enrolment.id}/participants", {"user_id": str(chair.id)})
    assert "Participant added." in added.text
    fragment = client.submit(
        f"/training/enrolments/{enrolment.id}/participants",
        {"full_name": "Moussa Volunteer"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Awa Chair, Moussa Volunteer" in fragment.text
    again = client.submit(f"/training/enrolments/{enrolment.id}/participants", {"user_id": str(chair.id)})
    assert again.status_code == 422
    neither = client.submit(f"/training/enrolments/{enrolment.id}/participants", {})
    assert neither.status_code == 422 and "or write a name" in neither.text

    assert "Moussa Volunteer" in login(trainer).get(f"/training/programmes/{programme.id}").text
    outsider = login(make_representative(make_organisation("Other Association")))
    assert "Moussa Volunteer" not in outsider.get(f"/training/programmes/{programme.id}").text


# Sessions on the page -------------------------------------------------------------------------------------


def test_the_page_lists_each_series_with_its_next_sessions_in_the_readers_time_zone(
    db: Session, login: Any, trainer: User, lead: Organisation
) -> None:
    programme = programme_of(db, trainer, lead)
    start = (utcnow() + timedelta(days=10)).replace(tzinfo=None, hour=18, minute=0, second=0, microsecond=0)
    service.create_series(
        db,
        programme,
        service.SeriesInput(
            "Evening session", start, start + timedelta(hours=1), "UTC", (start.weekday(),), count=5
        ),
    )
    db.commit()

    page = login(trainer).get(f"/training/programmes/{programme.id}").text

    assert "Evening session" in page
    shown = re.findall(r'<time datetime="([^"]+)">', page)
    assert len(shown) == 3
    assert datetime.fromisoformat(shown[0]).replace(tzinfo=None) == start


# Cost -----------------------------------------------------------------------------------------------------

# Statements per request as measured: the signed-in user and their roles, the framework's domains, then for the
# list the count, the page, the domains and the enrolment counts; for a programme its trainers (access), the
# trainers' names, the lead organisation, enrolments, participants, representatives, series, their changes,
# domains, the organisations to enrol and the viewer's calendar address for the programme.
BOUNDS = {"list": 8, "programme": 16}


def grow(
    db: Session,
    trainer: User,
    lead: Organisation,
    make_organisation: Any,
    make_representative: Any,
    n: int,
    start: int,
) -> Programme:
    """Programmes each with organisations enrolled, participants and series."""
    programme = None
    for number in range(start, start + n):
        programme = programme_of(db, trainer, lead, places=2, title=f"Programme {number:03d}")
        for k in range(3):
            organisation = make_organisation(f"Member {number:03d}-{k}")
            enrolment = service.enrol(db, programme, organisation.id)
            service.add_participant(db, enrolment, make_representative(organisation))
        first = datetime(2030, 1, 7, 18)
        service.create_series(
            db,
            programme,
            service.SeriesInput("Evening", first, first + timedelta(hours=1), "Europe/Dublin", (0,), count=8),
        )
        db.commit()
    assert programme is not None
    return programme


def test_the_list_and_a_programme_cost_the_same_statements_whatever_their_number(
    db: Session,
    engine: Engine,
    login: Any,
    trainer: User,
    officer: User,
    lead: Organisation,
    make_organisation: Any,
    make_representative: Any,
    framework: None,
) -> None:
    measured = grow(db, trainer, lead, make_organisation, make_representative, 1, start=0)
    client = login(officer)

    def measure() -> dict[str, int]:
        counts = {}
        for name, url in (
            ("list", "/training/programmes"),
            ("programme", f"/training/programmes/{measured.id}"),
        ):
            client.get(url)
            with counting(engine) as counted:
                response = client.get(url)
            assert response.status_code == 200, response.text
            counts[name] = counted.count
        return counts

    few = measure()
    grow(db, trainer, lead, make_organisation, make_representative, 6, start=100)
    for k in range(5):
        organisation = make_organisation(f"Late {k}")
        service.add_participant(db, service.enrol(db, measured, organisation.id), None, f"Person {k}")
    first = datetime(2030, 2, 7, 9)
    for _ in range(3):
        service.create_series(
            db,
            measured,
            service.SeriesInput("Morning", first, first + timedelta(hours=2), "UTC", (3,), count=4),
        )
    db.commit()
    many = measure()

    assert many == few
    over = {name: (count, BOUNDS[name]) for name, count in many.items() if count > BOUNDS[name]}
    assert not over, f"more statements than allowed (count, bound): {over}"
