"""The home page leads a representative straight to its organisation, or says plainly that its account is not
linked to one yet and whom to ask."""

from __future__ import annotations

from typing import Any

from crm.accounts.models import User
from crm.organisations.models import Organisation

NOT_LINKED = "Your account is not linked to an organisation yet"


def test_representative_is_led_straight_to_its_organisation(
    login: Any, make_organisation: Any, make_representative: Any
) -> None:
    organisation: Organisation = make_organisation("Regroupement des Haïtiens de Montréal")

    home = login(make_representative(organisation)).get("/").text

    assert (
        f'<a href="/organisations/{organisation.id}" role="button" class="own-organisation">'
        "Your organisation: Regroupement des Haïtiens de Montréal</a>"
    ) in home
    assert NOT_LINKED not in home


def test_representative_of_an_organisation_that_does_not_share_its_data_is_still_led_to_it(
    login: Any, make_organisation: Any, make_representative: Any
) -> None:
    organisation: Organisation = make_organisation("Quiet Senegalese Mutual", consent_to_share=False)
    browser = login(make_representative(organisation))

    assert "Your organisation: Quiet Senegalese Mutual" in browser.get("/").text
    assert browser.get(f"/organisations/{organisation.id}").status_code == 200


def test_representative_without_an_organisation_is_told_so_and_whom_to_ask(
    login: Any, make_user: Any
) -> None:
    home = login(make_user("org_representative")).get("/").text

    assert NOT_LINKED in home
    assert "Ask a liaison officer of the diaspora unit, or your administrator" in home
    assert "Your organisation:" not in home


def test_trainer_who_is_also_an_unlinked_representative_is_told_so_too(login: Any, make_user: Any) -> None:
    assert NOT_LINKED in login(make_user("trainer", "org_representative")).get("/").text


def test_officer_is_neither_led_to_an_organisation_nor_told_to_ask_for_one(login: Any, officer: User) -> None:
    home = login(officer).get("/").text

    assert NOT_LINKED not in home
    assert "Your organisation:" not in home


def test_user_linked_to_an_organisation_without_the_representative_role_is_not_led_to_it(
    login: Any, make_user: Any, make_organisation: Any, db: Any
) -> None:
    organisation: Organisation = make_organisation()
    trainer = make_user("trainer")
    trainer.organisation_id = organisation.id
    db.commit()

    assert "Your organisation:" not in login(trainer).get("/").text
