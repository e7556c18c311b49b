"""Editing an organisation: the profile form, concurrent edits, contacts, activities and deletion."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.db.audit import AuditLog
from crm.organisations import service
from crm.organisations.models import Activity, Contact, Organisation
from crm.organisations.schemas import OrganisationIn


@pytest.fixture
def organisation(make_organisation: Any) -> Organisation:
    return make_organisation(
        "Association des Sénégalais de Lyon",
        acronym="ASL",
        residence_city="Lyon",
        description="Tutoring for pupils.",
        sectors=["education"],
        languages=["fr"],
        skills_offered=["tutoring"],
    )


@pytest.fixture
def private_organisation(make_organisation: Any) -> Organisation:
    return make_organisation(
        "Quiet Senegalese Mutual", consent_to_share=False, languages=["fr"], skills_offered=["cooking"]
    )


def edit_form(organisation: Organisation, **changes: Any) -> dict[str, Any]:
    """What the edit form posts for this organisation, as a browser sends it, with some fields changed."""
    form: dict[str, Any] = {
        "version": str(organisation.version),
        "name": organisation.name,
        "acronym": organisation.acronym or "",
        "description": organisation.description or "",
        "founded_year": "",
        "legal_status": "",
        "residence_country": organisation.residence_country,
        "residence_city": organisation.residence_city or "",
        "origin_country": organisation.origin_country,
        "website": "",
        "email": "",
        "phone": "",
        "sectors": list(organisation.sectors),
        "languages": ", ".join(organisation.languages),
        "skills_offered": ", ".join(organisation.skills_offered),
        "members_count": "",
        "volunteers_count": "",
        "staff_count": "",
        "budget_band": "",
        "contribution_to": "",
        "provenance": organisation.provenance,
        "provenance_detail": "",
    }
    if organisation.consent_to_share:
        form["consent_to_share"] = "true"
    form.update(changes)
    return form


def reloaded(db: Session, organisation: Organisation) -> Organisation:
    db.expire_all()
    fresh = service.get_organisation(db, organisation.id, full=True)
    assert fresh is not None
    return fresh


def audit_rows(db: Session, action: str, entity: str = "organisations") -> list[AuditLog]:
    return list(
        db.scalars(
            select(AuditLog).where(AuditLog.action == action, AuditLog.entity == entity).order_by(AuditLog.id)
        )
    )


# The form ----------------------------------------------------------------------------------------------


def test_the_edit_form_opens_filled_in_with_the_current_version(
    login: Any, officer: User, organisation: Organisation
) -> None:
    page = login(officer).get(f"/organisations/{organisation.id}/edit").text

    assert f'<input type="hidden" name="version" value="{organisation.version}">' in page
    assert 'name="name" type="text"\n         value="Association des Sénégalais de Lyon"' in page
    assert '<input type="checkbox" name="sectors" value="education" checked>' in page
    assert 'value="fr"' in page
    assert '<input type="checkbox" name="consent_to_share" value="true" checked>' in page


def test_an_officer_edits_a_profile(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    form = edit_form(
        organisation,
        name="Association des Sénégalais de Lyon et environs",
        sectors=["education", "health"],
        capital_kinds=["social", "economic"],
        audiences=["refugees_displaced"],
        languages="fr, wo",
        skills_offered="tutoring; accounting",
        contribution_modes=["skills", "networks"],
        founded_year="2008",
        legal_status="registered_association",
        website="asl.example.org",
        email="bureau@asl.example.org",
        members_count="140",
        budget_band="10k_50k",
    )

    response = login(officer).submit(f"/organisations/{organisation.id}/edit", form, follow_redirects=False)

    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/organisations/{organisation.id}"
    saved = reloaded(db, organisation)
    assert saved.name == "Association des Sénégalais de Lyon et environs"
    assert sorted(saved.sectors) == ["education", "health"]
    assert sorted(saved.capital_kinds) == ["economic", "social"]
    assert saved.audiences == ["refugees_displaced"]
    assert saved.languages == ["fr", "wo"]
    assert saved.skills_offered == ["tutoring", "accounting"]
    assert saved.contribution_modes == ["skills", "networks"]
    assert saved.founded_year == 2008
    assert saved.website == "https://asl.example.org"
    assert saved.members_count == 140
    assert saved.version == 2
    assert saved.completeness > 40


def test_an_edit_is_written_to_the_audit_log_with_its_author(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    form = edit_form(organisation, name="ASL Lyon", residence_city="Villeurbanne")

    login(officer).submit(f"/organisations/{organisation.id}/edit", form)

    rows = audit_rows(db, "update")
    assert len(rows) == 1
    assert rows[0].actor_id == officer.id
    assert rows[0].entity_id == str(organisation.id)
    assert rows[0].changes["name"] == ["Association des Sénégalais de Lyon", "ASL Lyon"]
    assert rows[0].changes["residence_city"] == ["Lyon", "Villeurbanne"]


def test_after_saving_the_profile_shows_the_change_and_a_confirmation(
    login: Any, officer: User, organisation: Organisation
) -> None:
    response = login(officer).submit(
        f"/organisations/{organisation.id}/edit", edit_form(organisation, description="Homework club.")
    )

    assert response.status_code == 200
    assert "Homework club." in response.text
    assert "Profile saved." in response.text


def test_saving_the_form_opens_the_profile_page_with_a_confirmation(
    login: Any, officer: User, organisation: Organisation
) -> None:
    client = login(officer)

    response = client.submit(
        f"/organisations/{organisation.id}/edit",
        edit_form(organisation, description="Homework club."),
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/organisations/{organisation.id}"
    page = client.get(response.headers["location"]).text
    assert "Profile saved." in page
    assert "Homework club." in page
    assert "<h1>Edit " not in page


def test_an_htmx_save_sends_the_browser_to_the_profile_page(
    login: Any, officer: User, organisation: Organisation
) -> None:
    client = login(officer)

    response = client.submit(
        f"/organisations/{organisation.id}/edit",
        edit_form(organisation, description="Homework club."),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 204
    assert response.headers["hx-redirect"] == f"/organisations/{organisation.id}"
    page = client.get(f"/organisations/{organisation.id}").text
    assert "Profile saved." in page
    assert "Homework club." in page


def test_an_htmx_save_with_errors_returns_the_form_with_its_error_summary(
    login: Any, officer: User, organisation: Organisation
) -> None:
    response = login(officer).submit(
        f"/organisations/{organisation.id}/edit",
        edit_form(organisation, name=""),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "hx-redirect" not in response.headers
    assert '<p class="form-error" id="form-errors" role="alert" tabindex="-1">' in response.text
    assert re.search(
        r'id="f-name"[^>]*required aria-invalid="true" aria-describedby="name-error"', response.text
    )


def test_keeping_the_same_sectors_saves_cleanly(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    response = login(officer).submit(
        f"/organisations/{organisation.id}/edit",
        edit_form(organisation, sectors=["education"], acronym="ASLY"),
        follow_redirects=False,
    )

    assert response.status_code in (302, 303)
    saved = reloaded(db, organisation)
    assert saved.sectors == ["education"]
    assert saved.acronym == "ASLY"


def test_unticking_consent_withdraws_the_organisation_from_the_public_directory(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    form = edit_form(organisation)
    del form["consent_to_share"]

    login(officer).submit(f"/organisations/{organisation.id}/edit", form)

    assert reloaded(db, organisation).consent_to_share is False


@pytest.mark.parametrize("box", ["skills_offered", "languages"])
def test_a_profile_saves_with_an_empty_languages_or_skills_box(
    login: Any, officer: User, db: Session, organisation: Organisation, box: str
) -> None:
    form = edit_form(organisation, description="Saved with an empty box.", **{box: ""})

    response = login(officer).submit(f"/organisations/{organisation.id}/edit", form, follow_redirects=False)

    assert response.status_code in (302, 303), re.findall(r'class="field-error"[^>]*>([^<]*)', response.text)
    saved = reloaded(db, organisation)
    assert saved.description == "Saved with an empty box."
    assert getattr(saved, box) == []


def test_an_officer_creates_an_organisation_leaving_optional_boxes_empty(
    login: Any, officer: User, db: Session, reference: None
) -> None:
    form = {
        "name": "New Diaspora Collective",
        "acronym": "",
        "description": "",
        "founded_year": "",
        "legal_status": "",
        "residence_country": "FR",
        "residence_city": "",
        "origin_country": "SN",
        "website": "",
        "email": "",
        "phone": "",
        "languages": "",
        "skills_offered": "",
        "members_count": "",
        "volunteers_count": "",
        "staff_count": "",
        "budget_band": "",
        "contribution_to": "",
        "provenance": "officer_entry",
        "provenance_detail": "",
    }

    response = login(officer).submit("/organisations/new", form, follow_redirects=False)

    assert response.status_code in (302, 303), re.findall(r'class="field-error"[^>]*>([^<]*)', response.text)
    assert db.scalar(select(Organisation.name)) == "New Diaspora Collective"


# Who may edit ------------------------------------------------------------------------------------------


def test_the_organisation_representative_edits_its_profile(
    login: Any, make_representative: Any, db: Session, organisation: Organisation
) -> None:
    representative = make_representative(organisation)
    client = login(representative)

    assert client.get(f"/organisations/{organisation.id}/edit").status_code == 200
    response = client.submit(
        f"/organisations/{organisation.id}/edit",
        edit_form(organisation, description="Updated by our secretary."),
        follow_redirects=False,
    )

    assert response.status_code in (302, 303)
    assert reloaded(db, organisation).description == "Updated by our secretary."
    assert audit_rows(db, "update")[0].actor_id == representative.id


def test_the_representative_of_a_private_organisation_edits_its_profile(
    login: Any, make_representative: Any, db: Session, private_organisation: Organisation
) -> None:
    client = login(make_representative(private_organisation))

    response = client.submit(
        f"/organisations/{private_organisation.id}/edit",
        edit_form(private_organisation, residence_city="Marseille"),
        follow_redirects=False,
    )

    assert response.status_code in (302, 303)
    assert reloaded(db, private_organisation).residence_city == "Marseille"


def test_another_organisations_representative_cannot_edit(
    login: Any, make_organisation: Any, make_representative: Any, db: Session, organisation: Organisation
) -> None:
    client = login(make_representative(make_organisation("Other Diaspora Group")))

    opened = client.get(f"/organisations/{organisation.id}/edit")
    posted = client.submit(f"/organisations/{organisation.id}/edit", edit_form(organisation, name="Hijacked"))

    assert opened.status_code == 403
    assert posted.status_code == 403
    assert reloaded(db, organisation).name == "Association des Sénégalais de Lyon"
    assert audit_rows(db, "update") == []


def test_a_trainer_cannot_edit_a_consenting_organisation(
    login: Any, trainer: User, db: Session, organisation: Organisation
) -> None:
    client = login(trainer)

    assert client.get(f"/organisations/{organisation.id}/edit").status_code == 403
    response = client.submit(
        f"/organisations/{organisation.id}/edit", edit_form(organisation, name="Hijacked")
    )

    assert response.status_code == 403
    assert reloaded(db, organisation).name == "Association des Sénégalais de Lyon"


def test_a_trainer_gets_not_found_editing_an_organisation_without_consent(
    login: Any, trainer: User, db: Session, private_organisation: Organisation
) -> None:
    client = login(trainer)

    assert client.get(f"/organisations/{private_organisation.id}/edit").status_code == 404
    response = client.submit(
        f"/organisations/{private_organisation.id}/edit", edit_form(private_organisation, name="Hijacked")
    )

    assert response.status_code == 404
    assert reloaded(db, private_organisation).name == "Quiet Senegalese Mutual"


def test_a_merged_record_cannot_be_edited(
    login: Any, officer: User, db: Session, make_organisation: Any, organisation: Organisation
) -> None:
    duplicate = make_organisation("ASL Lyon duplicate")
    service.merge_organisations(db, organisation, duplicate)
    db.commit()

    response = login(officer).submit(
        f"/organisations/{duplicate.id}/edit", edit_form(duplicate, name="Revived")
    )

    assert response.status_code == 403
    assert reloaded(db, duplicate).name == "ASL Lyon duplicate"


# Validation --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "   ", "This field is required."),
        ("residence_country", "Narnia", "Choose a country from the list."),
        ("origin_country", "", "Choose a country from the list."),
        ("founded_year", "1700", "This number is too small."),
        ("founded_year", "next year", "Enter a whole number."),
        ("website", "not a web address", "Enter a full web address, starting with https://."),
        ("website", "ftp://files.example.org", "Enter a full web address, starting with https://."),
        ("email", "bureau-at-asl", "Enter a valid email address."),
        ("languages", "French, Wolof", "Use two-letter language codes such as fr, en, wo."),
        ("members_count", "-3", "This number is too small."),
        ("legal_status", "secret_society", "Choose one of the options."),
        ("sectors", ["education", "astrology"], "Choose from the list."),
        ("audiences", ["aliens"], "Choose from the list."),
    ],
)
def test_invalid_input_is_shown_next_to_the_field_and_nothing_is_saved(
    login: Any,
    officer: User,
    db: Session,
    organisation: Organisation,
    field: str,
    value: Any,
    message: str,
) -> None:
    form = edit_form(organisation, description="This change must not be saved.", **{field: value})

    response = login(officer).submit(f"/organisations/{organisation.id}/edit", form)

    assert response.status_code == 200
    assert f'<small class="field-error" id="{field}-error">{message}</small>' in response.text
    assert "Please correct the fields marked below." in response.text
    saved = reloaded(db, organisation)
    assert saved.description == "Tutoring for pupils."
    assert saved.version == 1
    assert audit_rows(db, "update") == []


def test_the_form_shown_again_keeps_what_was_typed(
    login: Any, officer: User, organisation: Organisation
) -> None:
    form = edit_form(organisation, name="", description="Typed but not saved", sectors=["health", "culture"])

    page = login(officer).submit(f"/organisations/{organisation.id}/edit", form).text

    assert "Typed but not saved" in page
    assert '<input type="checkbox" name="sectors" value="health" checked>' in page
    assert '<input type="checkbox" name="sectors" value="culture" checked>' in page
    assert re.search(r'id="f-name"[^>]*aria-invalid="true" aria-describedby="name-error"', page)


def test_an_htmx_save_with_errors_returns_the_form_fragment(
    login: Any, officer: User, organisation: Organisation
) -> None:
    response = login(officer).submit(
        f"/organisations/{organisation.id}/edit",
        edit_form(organisation, founded_year="1700"),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="founded_year-error"' in response.text


# Concurrent edits --------------------------------------------------------------------------------------


def test_a_stale_edit_is_refused_and_never_overwrites_the_other_change(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    client = login(officer)
    opened = edit_form(organisation, description="My edit, made on an old copy.")
    other = service.get_organisation(db, organisation.id, full=True)
    assert other is not None
    data = OrganisationIn(
        name=organisation.name,
        origin_country="SN",
        residence_country="FR",
        description="Their edit, saved first.",
        sectors=["education"],
        consent_to_share=True,
    )
    service.update_organisation(db, other, data, other.version)
    db.commit()

    response = client.submit(f"/organisations/{organisation.id}/edit", opened)

    assert response.status_code == 409
    assert "Someone else changed this organisation after you opened it." in response.text
    assert "My edit, made on an old copy." in response.text
    saved = reloaded(db, organisation)
    assert saved.description == "Their edit, saved first."
    assert saved.version == 2


def test_submitting_the_same_form_twice_saves_only_once(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    client = login(officer)
    form = edit_form(organisation, description="Saved once.")

    first = client.submit(f"/organisations/{organisation.id}/edit", form, follow_redirects=False)
    second = client.submit(f"/organisations/{organisation.id}/edit", {**form, "description": "Twice?"})

    assert first.status_code in (302, 303)
    assert second.status_code == 409
    assert reloaded(db, organisation).description == "Saved once."


@pytest.mark.parametrize("version", ["", "abc"])
def test_a_form_without_a_usable_version_is_refused(
    login: Any, officer: User, db: Session, organisation: Organisation, version: str
) -> None:
    response = login(officer).submit(
        f"/organisations/{organisation.id}/edit", edit_form(organisation, version=version, name="Changed")
    )

    assert response.status_code == 200
    assert 'class="form-error"' in response.text
    assert reloaded(db, organisation).name == "Association des Sénégalais de Lyon"


# Contacts ----------------------------------------------------------------------------------------------


def test_an_officer_adds_a_contact(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    response = login(officer).submit(
        f"/organisations/{organisation.id}/contacts",
        {
            "full_name": "Awa Diop",
            "role_title": "President",
            "email": "awa.diop@example.org",
            "phone": "",
            "consent": "given",
            "consent_date": "2024-03-01",
        },
        follow_redirects=False,
    )

    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/organisations/{organisation.id}/contacts"
    contact = db.scalar(select(Contact).where(Contact.organisation_id == organisation.id))
    assert contact is not None
    assert (contact.full_name, contact.email, contact.consent) == (
        "Awa Diop",
        "awa.diop@example.org",
        "given",
    )
    assert contact.consent_date == date(2024, 3, 1)
    assert audit_rows(db, "create", "contacts")[0].actor_id == officer.id


def test_the_representative_adds_a_contact_with_htmx(
    login: Any, make_representative: Any, db: Session, organisation: Organisation
) -> None:
    client = login(make_representative(organisation))

    response = client.submit(
        f"/organisations/{organisation.id}/contacts",
        {"full_name": "Moussa Ba", "email": "moussa@example.org", "consent": "pending"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "moussa@example.org" in response.text
    assert (
        db.scalar(select(Contact.full_name).where(Contact.organisation_id == organisation.id)) == "Moussa Ba"
    )


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"full_name": "", "email": "a@example.org", "consent": "given"}, "full_name"),
        ({"full_name": "Awa Diop", "email": "not-an-email", "consent": "given"}, "email"),
        ({"full_name": "Awa Diop", "consent": "maybe"}, "consent"),
        ({"full_name": "Awa Diop", "consent": "given", "consent_date": "01/03/2024"}, "consent_date"),
        ({"full_name": "Awa Diop", "email": "a@example.org", "consent": ""}, "consent"),
        ({"full_name": "Awa Diop", "email": "a@example.org"}, "consent"),
    ],
    ids=[
        "missing name",
        "bad email",
        "unknown consent",
        "bad date",
        "consent not chosen",
        "consent left out",
    ],
)
def test_an_invalid_contact_is_shown_again_with_its_error(
    login: Any, officer: User, db: Session, organisation: Organisation, form: dict[str, str], field: str
) -> None:
    response = login(officer).submit(f"/organisations/{organisation.id}/contacts", form)

    assert response.status_code == 200
    assert f'id="{field}-error"' in response.text
    assert "<details open>" in response.text
    assert db.scalar(select(Contact).where(Contact.organisation_id == organisation.id)) is None


def test_the_contact_form_leaves_consent_to_be_chosen(
    login: Any, officer: User, organisation: Organisation
) -> None:
    page = login(officer).get(f"/organisations/{organisation.id}/contacts").text

    select = re.search(r'<select id="f-consent".*?</select>', page, re.S)
    assert select is not None
    assert " required" in select.group(0)
    assert re.search(r'<option value="">[^<]+</option>', select.group(0))
    assert "selected" not in select.group(0)


def test_a_contact_whose_consent_was_not_chosen_shows_the_error_next_to_the_field(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    response = login(officer).submit(
        f"/organisations/{organisation.id}/contacts",
        {"full_name": "Awa Diop", "consent": ""},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert re.search(
        r'<select id="f-consent"[^>]*aria-invalid="true" aria-describedby="consent-error"', response.text
    )
    assert '<small class="field-error" id="consent-error">Choose one of the options.</small>' in response.text
    assert db.scalar(select(Contact).where(Contact.organisation_id == organisation.id)) is None


def test_another_organisations_representative_cannot_add_a_contact(
    login: Any, make_organisation: Any, make_representative: Any, db: Session, organisation: Organisation
) -> None:
    client = login(make_representative(make_organisation("Other Diaspora Group")))

    response = client.submit(f"/organisations/{organisation.id}/contacts", {"full_name": "Intruder"})

    assert response.status_code == 403
    assert db.scalar(select(Contact).where(Contact.organisation_id == organisation.id)) is None


def test_a_trainer_cannot_add_a_contact_to_an_organisation_without_consent(
    login: Any, trainer: User, db: Session, private_organisation: Organisation
) -> None:
    response = login(trainer).submit(
        f"/organisations/{private_organisation.id}/contacts", {"full_name": "Intruder"}
    )

    assert response.status_code == 404
    assert db.scalar(select(Contact).where(Contact.organisation_id == private_organisation.id)) is None


# Activities --------------------------------------------------------------------------------------------


def test_an_officer_records_an_activity_signed_with_their_name(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    client = login(officer)

    response = client.submit(
        f"/organisations/{organisation.id}/activities",
        {"kind": "call", "occurred_on": "2024-06-12", "summary": "Called about the summer camp."},
    )

    assert response.status_code == 200
    assert "Called about the summer camp." in response.text
    assert "Omar Officer" in response.text
    activity = db.scalar(select(Activity).where(Activity.organisation_id == organisation.id))
    assert activity is not None
    assert (activity.kind, activity.occurred_on, activity.author_id) == (
        "call",
        date(2024, 6, 12),
        officer.id,
    )


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"kind": "call", "occurred_on": "2024-06-12", "summary": ""}, "summary"),
        ({"kind": "call", "occurred_on": "12/06/2024", "summary": "Called."}, "occurred_on"),
        ({"kind": "call", "occurred_on": "2024-02-30", "summary": "Called."}, "occurred_on"),
        ({"kind": "call", "occurred_on": "", "summary": "Called."}, "occurred_on"),
        ({"kind": "telepathy", "occurred_on": "2024-06-12", "summary": "Called."}, "kind"),
    ],
    ids=["missing summary", "bad date format", "impossible date", "missing date", "unknown kind"],
)
def test_an_invalid_activity_is_shown_again_with_its_error(
    login: Any, officer: User, db: Session, organisation: Organisation, form: dict[str, str], field: str
) -> None:
    response = login(officer).submit(
        f"/organisations/{organisation.id}/activities", form, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert f'id="{field}-error"' in response.text
    assert db.scalar(select(Activity).where(Activity.organisation_id == organisation.id)) is None


def test_a_trainer_cannot_record_an_activity(
    login: Any, trainer: User, db: Session, organisation: Organisation
) -> None:
    response = login(trainer).submit(
        f"/organisations/{organisation.id}/activities",
        {"kind": "note", "occurred_on": "2024-06-12", "summary": "Sneaky note."},
    )

    assert response.status_code == 403
    assert db.scalar(select(Activity).where(Activity.organisation_id == organisation.id)) is None


# Deletion ----------------------------------------------------------------------------------------------


def test_the_delete_button_asks_for_confirmation_and_only_admins_see_it(
    login: Any, admin: User, organisation: Organisation
) -> None:
    page = login(admin).get(f"/organisations/{organisation.id}").text

    form = re.search(r'<form method="post" action="/organisations/\d+/delete"[^>]*>', page)
    assert form is not None
    assert 'data-confirm="Delete this organisation' in form.group(0)


def test_officers_do_not_see_the_delete_button(login: Any, officer: User, organisation: Organisation) -> None:
    assert (
        f"/organisations/{organisation.id}/delete"
        not in login(officer).get(f"/organisations/{organisation.id}").text
    )


def test_an_admin_deletes_an_organisation_with_its_contacts_and_activities(
    login: Any,
    admin: User,
    db: Session,
    organisation: Organisation,
    make_contact: Any,
    make_activity: Any,
    make_initiative: Any,
    make_representative: Any,
) -> None:
    make_contact(organisation, "Awa Diop")
    make_activity(organisation, "Met")
    make_initiative(organisation, "Homework club")
    representative = make_representative(organisation)
    organisation_id = organisation.id

    response = login(admin).submit(f"/organisations/{organisation_id}/delete", follow_redirects=False)

    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/organisations"
    db.expire_all()
    assert db.get(Organisation, organisation_id) is None
    assert db.scalar(select(Contact).where(Contact.organisation_id == organisation_id)) is None
    assert db.scalar(select(Activity).where(Activity.organisation_id == organisation_id)) is None
    assert db.get(User, representative.id).organisation_id is None
    deleted = audit_rows(db, "delete")
    assert [(row.entity_id, row.actor_id) for row in deleted] == [(str(organisation_id), admin.id)]


def test_an_officer_cannot_delete_an_organisation(
    login: Any, officer: User, db: Session, organisation: Organisation
) -> None:
    response = login(officer).submit(f"/organisations/{organisation.id}/delete")

    assert response.status_code == 403
    db.expire_all()
    assert db.get(Organisation, organisation.id) is not None


def test_the_representative_cannot_delete_its_organisation(
    login: Any, make_representative: Any, db: Session, organisation: Organisation
) -> None:
    response = login(make_representative(organisation)).submit(f"/organisations/{organisation.id}/delete")

    assert response.status_code == 403
    db.expire_all()
    assert db.get(Organisation, organisation.id) is not None


def test_a_delete_without_the_csrf_token_is_refused(
    login: Any, admin: User, db: Session, organisation: Organisation
) -> None:
    response = login(admin).post(f"/organisations/{organisation.id}/delete", data={})

    assert response.status_code == 403
    db.expire_all()
    assert db.get(Organisation, organisation.id) is not None
