"""Whole journeys through the UI as people make them: sign in, find an organisation, edit it, see it saved."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    ADMIN,
    DESKTOP,
    OFFICER,
    PASSWORD,
    PHONE,
    REPRESENTATIVE,
    OpenContext,
    Persona,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@dataclass(frozen=True)
class Words:
    """What the UI calls things, in one language."""

    language: str
    menu: str
    email: str
    password: str
    sign_in: str
    directory: str
    directory_heading: str
    search: str
    country_of_residence: str
    edit_profile: str
    description: str
    phone: str
    save: str
    saved: str


ENGLISH = Words(
    language="EN",
    menu="Menu",
    email="Email",
    password="Password",
    sign_in="Sign in",
    directory="Directory",
    directory_heading="Diaspora organisations",
    search="Search",
    country_of_residence="Country of residence",
    edit_profile="Edit profile",
    description="Description",
    phone="Phone",
    save="Save",
    saved="Profile saved.",
)
FRENCH = Words(
    language="FR",
    menu="Menu",
    email="Courriel",
    password="Mot de passe",
    sign_in="Se connecter",
    directory="Annuaire",
    directory_heading="Organisations de la diaspora",
    search="Rechercher",
    country_of_residence="Pays de résidence",
    edit_profile="Modifier le profil",
    description="Description",
    phone="Téléphone",
    save="Enregistrer",
    saved="Profil enregistré.",
)


def sign_in(page: Page, persona: Persona, words: Words = ENGLISH) -> None:
    page.goto("/login")
    page.get_by_label(words.email).fill(persona.email)
    page.get_by_label(words.password).fill(PASSWORD)
    page.get_by_role("button", name=words.sign_in).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(persona.full_name)


def follow_header_link(page: Page, name: str, words: Words, on_phone: bool) -> None:
    """Phones show the header's links behind the menu disclosure; wider screens show them in the bar."""
    header = page.get_by_role("banner")
    if on_phone:
        header.get_by_text(words.menu, exact=True).click()
    header.get_by_role("link", name=name, exact=True).click()


def choose_language(page: Page, words: Words, on_phone: bool = False) -> None:
    follow_header_link(page, words.language, words, on_phone)
    expect(page.locator("html")).to_have_attribute("lang", words.language.lower())


def go_to_directory(page: Page, words: Words, on_phone: bool = False) -> None:
    follow_header_link(page, words.directory, words, on_phone)
    expect(page.get_by_role("heading", level=1, name=words.directory_heading)).to_be_visible()


def link_or_button(page: Page, name: str) -> Locator:
    """An action styled as a button may be a link underneath; the user only reads its name."""
    return page.get_by_role("link", name=name).or_(page.get_by_role("button", name=name))


def search_results(page: Page) -> Locator:
    return page.locator("#results")


def edit_and_save(page: Page, words: Words, label: str, value: str) -> None:
    link_or_button(page, words.edit_profile).click()
    page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name=words.save, exact=True).click()


def expect_saved_on_the_organisation_page(page: Page, words: Words, organisation: str, value: str) -> None:
    expect(page).to_have_url(re.compile(r"/organisations/\d+$"))
    expect(page.get_by_role("button", name=words.save, exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", level=1, name=organisation)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=words.saved)).to_be_visible()
    expect(page.get_by_text(value)).to_be_visible()


OFFICER_RUNS = {
    "english-desktop": (ENGLISH, DESKTOP),
    "english-phone": (ENGLISH, PHONE),
    "french": (FRENCH, DESKTOP),
}


@pytest.mark.parametrize(("words", "viewport"), OFFICER_RUNS.values(), ids=OFFICER_RUNS.keys())
def test_officer_finds_an_organisation_in_the_directory_and_edits_its_description(
    open_context: OpenContext, words: Words, viewport: dict[str, int]
) -> None:
    on_phone = viewport is PHONE
    page = open_context(viewport).new_page()
    sign_in(page, OFFICER)
    # Signing in brings back the account's own language; the officer picks hers with the header link.
    choose_language(page, words, on_phone)
    go_to_directory(page, words, on_phone)

    page.get_by_label(words.search, exact=True).fill("Senegal")
    results = search_results(page)
    expect(results.get_by_role("link", name="Comunità Senegalese di Torino")).to_be_visible()
    page.get_by_label(words.country_of_residence).select_option(label="France")
    expect(results.get_by_role("link", name="Comunità Senegalese di Torino")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]residence=FR"))

    results.get_by_role("link", name="Association Sénégalaise de Lyon").click()
    expect(page.get_by_role("heading", level=1, name="Association Sénégalaise de Lyon")).to_be_visible()

    description = f"Mentoring for young graduates in Lyon ({uuid.uuid4().hex[:8]})."
    edit_and_save(page, words, words.description, description)
    expect_saved_on_the_organisation_page(page, words, "Association Sénégalaise de Lyon", description)


def test_representative_updates_the_phone_number_of_her_own_organisation(
    open_context: OpenContext,
) -> None:
    page = open_context().new_page()
    sign_in(page, REPRESENTATIVE)
    # Her account is in French: signing in switches the interface to it.
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    go_to_directory(page, FRENCH)

    page.get_by_label(FRENCH.search, exact=True).fill("Haïtiens de Montréal")
    own = "Regroupement des Haïtiens de Montréal pour le développement"
    search_results(page).get_by_role("link", name=own).click()
    expect(page.get_by_role("heading", level=1, name=own)).to_be_visible()

    phone = f"+1 514 555 {uuid.uuid4().int % 10_000:04d}"
    edit_and_save(page, FRENCH, FRENCH.phone, phone)
    expect_saved_on_the_organisation_page(page, FRENCH, own, phone)


def test_officer_adds_a_representative_whom_the_admin_then_sees_linked_on_the_user_form(
    open_context: OpenContext,
) -> None:
    organisation = "Association des Maliens de Dakar"
    email = f"representative-{uuid.uuid4().hex[:8]}@example.org"

    officer = open_context().new_page()
    sign_in(officer, OFFICER)
    choose_language(officer, ENGLISH)
    go_to_directory(officer, ENGLISH)
    officer.get_by_label(ENGLISH.search, exact=True).fill("Maliens de Dakar")
    search_results(officer).get_by_role("link", name=organisation).click()
    expect(officer.get_by_role("heading", level=1, name=organisation)).to_be_visible()

    representatives = officer.locator("#representatives")
    representatives.get_by_text("Add a representative").click()
    representatives.get_by_label("Email of the representative").fill(email)
    representatives.get_by_label("Full name (new account only)").fill("Mariam Keita")
    representatives.get_by_role("button", name="Add representative").click()

    expect(officer).to_have_url(re.compile(r"/organisations/\d+$"))
    expect(officer.get_by_role("status").filter(has_text=f"Account created for {email}")).to_be_visible()
    expect(representatives.get_by_role("link", name=email)).to_be_visible()

    admin = open_context().new_page()
    sign_in(admin, ADMIN)
    admin.goto("/admin/users")
    admin.get_by_label("Search by name or email").fill(email)
    admin.get_by_role("button", name="Search", exact=True).click()
    admin.get_by_role("link", name=email).click()
    picker = admin.get_by_role("group", name="Organisation represented")
    expect(picker).to_contain_text(organisation)

    # The admin moves the account to another organisation with the keyboard alone: search, Tab, Enter.
    picker.get_by_role("button", name="Clear").click()
    search = picker.get_by_label("Search for the organisation")
    expect(search).to_be_focused()
    search.press_sequentially("Torino")
    expect(picker.get_by_role("button", name=re.compile("Comunità Senegalese di Torino"))).to_be_visible()
    search.press("Tab")
    admin.keyboard.press("Enter")
    expect(picker.get_by_role("button", name="Clear")).to_be_focused()
    expect(picker).to_contain_text("Comunità Senegalese di Torino")
    admin.get_by_role("button", name="Save", exact=True).click()

    expect(admin).to_have_url(re.compile(r"/admin/users$"))
    expect(admin.get_by_role("status").filter(has_text=f"User {email} saved.")).to_be_visible()
