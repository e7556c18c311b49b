"""An organisation's representatives on its page: officers and admins see them, add and remove them; the
representatives see who else speaks for their organisation; nobody else sees them. A merge takes them along."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts import service as accounts
from crm.accounts.models import ApiToken, User, UserSession
from crm.accounts.roles import Role
from crm.db.audit import AuditLog
from crm.organisations import service
from crm.organisations.models import Organisation


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Association Sénégalaise de Lyon", residence_city="Lyon")


@pytest.fixture
def other_organisation(make_organisation: Any) -> Organisation:
    return make_organisation("Regroupement des Haïtiens de Montréal", residence_country="CA")


@pytest.fixture
def representative(make_representative: Any, organisation: Organisation) -> User:
    return make_representative(organisation, email="awa@example.org", full_name="Awa Diop")


def section(organisation: Organisation) -> str:
    return f"/organisations/{organisation.id}/representatives"


def add(organisation: Organisation, email: str, name: str = "") -> tuple[str, dict[str, str]]:
    return f"{section(organisation)}", {"representative_email": email, "representative_name": name}


def listed(html: str) -> list[str]:
    """The representatives' emails, as the section lists them."""
    return re.findall(r'<a href="mailto:([^"]+)">', html)


def field_errors(html: str) -> dict[str, str]:
    found = re.findall(r'<small class="field-error" id="([^"]+)-error">([^<]*)</small>', html)
    return {field: unescape(message) for field, message in found}


def reload(db: Session, user: User) -> User:
    db.expire_all()
    found = db.get(User, user.id)
    assert found is not None
    return found


def sessions_of(db: Session, user: User) -> list[UserSession]:
    return list(db.scalars(select(UserSession).where(UserSession.user_id == user.id)))


# Seeing them --------------------------------------------------------------------------------------------


def test_officer_sees_who_represents_the_organisation(
    login: Any, officer: User, organisation: Organisation, representative: User
) -> None:
    response = login(officer).hx_get(section(organisation))

    assert response.status_code == 200
    assert listed(response.text) == ["awa@example.org"]
    assert "Awa Diop" in response.text
    assert "<html" not in response.text


def test_organisation_page_makes_room_for_its_representatives_for_staff(
    login: Any, officer: User, organisation: Organisation
) -> None:
    page = login(officer).get(f"/organisations/{organisation.id}").text

    assert f'hx-get="{section(organisation)}" hx-trigger="load"' in page
    assert f'<a href="{section(organisation)}">See who represents this organisation</a>' in page


def test_the_representatives_page_stands_alone_without_script(
    login: Any, admin: User, organisation: Organisation, representative: User
) -> None:
    page = login(admin).get(section(organisation)).text

    assert "<h1>Association Sénégalaise de Lyon</h1>" in page
    assert listed(page) == ["awa@example.org"]
    assert "Add a representative" in page


def test_an_organisation_nobody_represents_says_so(
    login: Any, officer: User, organisation: Organisation
) -> None:
    html = login(officer).hx_get(section(organisation)).text

    assert listed(html) == []
    assert "Nobody represents this organisation yet." in html


def test_representative_sees_who_else_represents_its_organisation_without_changing_anything(
    login: Any, make_representative: Any, organisation: Organisation, representative: User
) -> None:
    colleague = make_representative(organisation, email="moussa@example.org", full_name="Moussa Ba")

    html = login(colleague).hx_get(section(organisation)).text

    assert listed(html) == ["awa@example.org", "moussa@example.org"]
    assert '<span class="badge">you</span>' in html
    assert "Add a representative" not in html
    assert "/remove" not in html


def test_representative_of_another_organisation_cannot_see_them(
    login: Any,
    make_representative: Any,
    organisation: Organisation,
    other_organisation: Organisation,
    representative: User,
) -> None:
    outsider = login(make_representative(other_organisation))

    response = outsider.hx_get(section(organisation))
    page = outsider.get(f"/organisations/{organisation.id}").text

    assert response.status_code == 403
    assert "awa@example.org" not in response.text
    assert section(organisation) not in page


def test_trainer_cannot_see_who_represents_an_organisation(
    login: Any, trainer: User, organisation: Organisation, representative: User
) -> None:
    response = login(trainer).hx_get(section(organisation))

    assert response.status_code == 403
    assert "awa@example.org" not in response.text


def test_representatives_of_a_private_organisation_are_not_even_found_by_an_outsider(
    login: Any, trainer: User, make_organisation: Any, make_representative: Any
) -> None:
    private = make_organisation("Quiet Senegalese Mutual", consent_to_share=False)
    make_representative(private, email="quiet@example.org")

    response = login(trainer).hx_get(section(private))

    assert response.status_code == 404
    assert "quiet@example.org" not in response.text


def test_someone_signed_out_is_sent_to_sign_in(client: Any, organisation: Organisation) -> None:
    response = client.get(section(organisation), follow_redirects=False)

    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")


# Adding one ---------------------------------------------------------------------------------------------


def test_officer_adds_an_existing_user_as_representative(
    login: Any, officer: User, trainer: User, organisation: Organisation, db: Session
) -> None:
    browser = login(officer)

    response = browser.submit(*add(organisation, "Trainer@Example.org"), follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/organisations/{organisation.id}"
    added = reload(db, trainer)
    assert added.organisation_id == organisation.id
    assert added.roles == {Role.TRAINER, Role.ORG_REPRESENTATIVE}
    assert (
        "trainer@example.org now represents this organisation."
        in browser.get(response.headers["location"]).text
    )


def test_the_added_representative_may_now_edit_its_organisation(
    login: Any, officer: User, trainer: User, organisation: Organisation
) -> None:
    trainers_browser = login(trainer)
    assert trainers_browser.get(f"/organisations/{organisation.id}/edit").status_code == 403

    login(officer).submit(*add(organisation, "trainer@example.org"))

    assert trainers_browser.get(f"/organisations/{organisation.id}/edit").status_code == 200


def test_officer_adds_a_representative_who_has_no_account_yet(
    login: Any, officer: User, organisation: Organisation, db: Session, settings: Any
) -> None:
    browser = login(officer)

    response = browser.submit(*add(organisation, "binta@example.org", "Binta Camara"), follow_redirects=False)

    assert response.status_code == 303
    created = accounts.get_user_by_email(db, "binta@example.org")
    assert created is not None
    assert (created.full_name, created.organisation_id) == ("Binta Camara", organisation.id)
    assert created.roles == {Role.ORG_REPRESENTATIVE}
    assert (created.language, created.time_zone) == (settings.default_language, settings.time_zone)
    page = browser.get(response.headers["location"]).text
    assert "Account created for binta@example.org" in page
    assert "an administrator sets one (Users) before they can sign in." in page


def test_the_new_account_cannot_sign_in_until_an_administrator_sets_its_password(
    login: Any, officer: User, admin: User, organisation: Organisation, db: Session
) -> None:
    login(officer).submit(*add(organisation, "binta@example.org", "Binta Camara"))
    created = accounts.get_user_by_email(db, "binta@example.org")
    assert created is not None
    assert accounts.check_credentials(db, "binta@example.org", "") is None

    accounts.set_password(db, created, "the password the admin set")
    db.commit()

    assert accounts.check_credentials(db, "binta@example.org", "the password the admin set") is not None


def test_adding_a_person_without_an_account_asks_for_their_name(
    login: Any, officer: User, organisation: Organisation, db: Session
) -> None:
    response = login(officer).submit(*add(organisation, "binta@example.org"))

    assert response.status_code == 200
    assert field_errors(response.text) == {
        "representative_name": "No account has this email yet: enter the person's name to create one."
    }
    assert 'value="binta@example.org"' in response.text
    assert accounts.get_user_by_email(db, "binta@example.org") is None


@pytest.mark.parametrize("email", ["", "not-an-email"])
def test_adding_without_a_valid_email_is_refused_next_to_the_field(
    login: Any, officer: User, organisation: Organisation, email: str
) -> None:
    response = login(officer).submit(*add(organisation, email, "Binta Camara"))

    assert response.status_code == 200
    assert set(field_errors(response.text)) == {"representative_email"}


def test_officer_cannot_add_someone_who_represents_another_organisation(
    login: Any,
    officer: User,
    make_representative: Any,
    organisation: Organisation,
    other_organisation: Organisation,
    db: Session,
) -> None:
    elsewhere = make_representative(other_organisation, email="jean@example.org")

    response = login(officer).submit(*add(organisation, "jean@example.org"))

    assert field_errors(response.text) == {
        "representative_email": "jean@example.org already represents “Regroupement des Haïtiens de Montréal”, "
        "and an account represents one organisation: remove them there first."
    }
    assert reload(db, elsewhere).organisation_id == other_organisation.id


def test_adding_someone_who_already_represents_it_says_so(
    login: Any, officer: User, organisation: Organisation, representative: User
) -> None:
    response = login(officer).submit(*add(organisation, "awa@example.org"))

    assert field_errors(response.text) == {
        "representative_email": "awa@example.org already represents this organisation."
    }


def test_a_refused_addition_typed_in_the_page_answers_only_its_section(
    login: Any, officer: User, organisation: Organisation
) -> None:
    response = login(officer).submit(*add(organisation, "binta@example.org"), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<h2 id="representatives-heading">')
    assert "<details open>" in response.text


def test_an_addition_typed_in_the_page_reloads_the_organisation_page(
    login: Any, officer: User, trainer: User, organisation: Organisation
) -> None:
    response = login(officer).submit(
        *add(organisation, "trainer@example.org"), headers={"HX-Request": "true"}, follow_redirects=False
    )

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/organisations/{organisation.id}"


@pytest.mark.parametrize("persona", ["representative", "trainer"])
def test_only_officers_and_admins_add_representatives(
    login: Any, representative: User, trainer: User, organisation: Organisation, db: Session, persona: str
) -> None:
    client = login(representative if persona == "representative" else trainer)

    response = client.submit(*add(organisation, "binta@example.org", "Binta Camara"))

    assert response.status_code == 403
    assert accounts.get_user_by_email(db, "binta@example.org") is None


def test_nobody_adds_a_representative_to_a_merged_organisation(
    login: Any, officer: User, trainer: User, make_organisation: Any, organisation: Organisation, db: Session
) -> None:
    duplicate = make_organisation("Association des Senegalais de Lyon")
    service.merge_organisations(db, organisation, duplicate)
    db.commit()
    browser = login(officer)

    response = browser.submit(*add(duplicate, "trainer@example.org"))

    assert response.status_code == 403
    assert reload(db, trainer).organisation_id is None
    assert "Add a representative" not in browser.hx_get(section(duplicate)).text


# Removing one -------------------------------------------------------------------------------------------


def remove(organisation: Organisation, user: User) -> str:
    return f"{section(organisation)}/{user.id}/remove"


def test_officer_removes_a_representative_who_loses_the_role_and_every_access(
    login: Any, officer: User, organisation: Organisation, representative: User, db: Session
) -> None:
    login(representative)
    accounts.create_api_token(db, representative, "laptop")
    db.commit()
    browser = login(officer)

    response = browser.submit(remove(organisation, representative), follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/organisations/{organisation.id}"
    removed = reload(db, representative)
    assert (removed.organisation_id, removed.roles) == (None, frozenset())
    assert sessions_of(db, removed) == []
    assert all(token.revoked_at is not None for token in db.scalars(select(ApiToken)))
    page = browser.get(response.headers["location"]).text
    assert "awa@example.org no longer represents this organisation." in page


def test_a_removed_representative_keeps_its_other_roles(
    login: Any, admin: User, make_representative: Any, organisation: Organisation, db: Session
) -> None:
    trainer = make_representative(organisation, "trainer")

    login(admin).submit(remove(organisation, trainer))

    assert reload(db, trainer).roles == {Role.TRAINER}


def test_the_removed_representative_can_no_longer_edit_the_organisation(
    login: Any, officer: User, organisation: Organisation, representative: User, db: Session
) -> None:
    login(officer).submit(remove(organisation, representative))

    # Signed in again (its sessions ended), it is just a reader now.
    assert login(reload(db, representative)).get(f"/organisations/{organisation.id}/edit").status_code == 403


def test_removing_asks_for_confirmation_first(
    login: Any, officer: User, organisation: Organisation, representative: User
) -> None:
    html = login(officer).hx_get(section(organisation)).text

    form = re.search(
        rf'<form method="post" action="{re.escape(remove(organisation, representative))}"[^>]*>', html
    )
    assert form is not None
    assert 'data-confirm="Remove Awa Diop as a representative of this organisation?' in form.group(0)
    assert 'aria-label="Remove Awa Diop"' in html


def test_removing_someone_who_does_not_represent_it_is_not_found(
    login: Any,
    officer: User,
    organisation: Organisation,
    make_representative: Any,
    other_organisation: Organisation,
    db: Session,
) -> None:
    elsewhere = make_representative(other_organisation)

    response = login(officer).submit(remove(organisation, elsewhere))

    assert response.status_code == 404
    assert reload(db, elsewhere).organisation_id == other_organisation.id


@pytest.mark.parametrize("persona", ["representative", "trainer"])
def test_only_officers_and_admins_remove_representatives(
    login: Any,
    make_representative: Any,
    trainer: User,
    organisation: Organisation,
    representative: User,
    db: Session,
    persona: str,
) -> None:
    colleague = make_representative(organisation)
    client = login(colleague if persona == "representative" else trainer)

    response = client.submit(remove(organisation, representative))

    assert response.status_code == 403
    assert reload(db, representative).organisation_id == organisation.id


def test_every_addition_and_removal_is_in_the_audit_log(
    login: Any, officer: User, trainer: User, organisation: Organisation, db: Session
) -> None:
    browser = login(officer)
    browser.submit(*add(organisation, "trainer@example.org"))
    browser.submit(remove(organisation, trainer))

    entries = db.scalars(
        select(AuditLog)
        .where(AuditLog.entity == "users", AuditLog.entity_id == str(trainer.id))
        .order_by(AuditLog.id)
    ).all()
    trail = [(entry.action, entry.actor_id, entry.changes.get("organisation_id")) for entry in entries]
    assert ("update", officer.id, [None, organisation.id]) in trail
    assert ("update", officer.id, [organisation.id, None]) in trail
    roles = [
        (entry.changes["before"], entry.changes["after"]) for entry in entries if entry.action == "roles"
    ]
    assert roles == [
        (["trainer"], ["org_representative", "trainer"]),
        (["org_representative", "trainer"], ["trainer"]),
    ]


# A merge ------------------------------------------------------------------------------------------------


def test_representative_of_a_merged_organisation_follows_it_to_the_survivor(
    login: Any,
    officer: User,
    make_organisation: Any,
    make_representative: Any,
    organisation: Organisation,
    db: Session,
) -> None:
    duplicate = make_organisation("Association des Senegalais de Lyon")
    follower = make_representative(duplicate, email="binta@example.org")
    followers_browser = login(follower)

    login(officer).submit(f"/organisations/{organisation.id}/merge", {"duplicate": str(duplicate.id)})

    assert reload(db, follower).organisation_id == organisation.id
    assert f'href="/organisations/{organisation.id}"' in followers_browser.get("/").text
    assert followers_browser.get(f"/organisations/{organisation.id}/edit").status_code == 200
    assert listed(login(officer).hx_get(section(organisation)).text) == ["binta@example.org"]
    merge = db.scalars(select(AuditLog).where(AuditLog.action == "merge")).one()
    assert merge.changes["representatives"] == [follower.id]


def test_a_user_form_opened_before_a_merge_cannot_put_the_representative_back_on_the_merged_record(
    login: Any,
    admin: User,
    make_organisation: Any,
    make_representative: Any,
    organisation: Organisation,
    db: Session,
) -> None:
    duplicate = make_organisation("Association des Senegalais de Lyon")
    follower = make_representative(duplicate, email="binta@example.org")
    version_in_the_open_form = follower.version

    service.merge_organisations(db, organisation, duplicate)
    db.commit()
    response = login(admin).submit(
        f"/admin/users/{follower.id}",
        {
            "email": follower.email,
            "full_name": "Binta",
            "roles": ["org_representative"],
            "language": "en",
            "time_zone": "Europe/Paris",
            "is_active": "true",
            "organisation": str(duplicate.id),
            "version": str(version_in_the_open_form),
        },
    )

    assert "Someone else changed this user after you opened it." in response.text
    assert reload(db, follower).organisation_id == organisation.id
