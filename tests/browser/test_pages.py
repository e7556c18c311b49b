"""Every main page, as the role that uses it sees it: accessible (axe-core), phone-sized, and photographed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    REPRESENTATIVE,
    DemoServer,
    OpenPage,
    describe_violations,
    overflowing_elements,
    page_width,
    screenshot,
    serious_accessibility_violations,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# A seeded organisation with contacts and activities, which no journey edits, so its pages look the same
# in every run.
SHOWN_ORGANISATION = "Association des Femmes Maliennes d'Île-de-France"


@dataclass(frozen=True)
class MainPage:
    name: str
    persona: str | None
    path: str
    status: int = 200

    def url(self, server: DemoServer) -> str:
        return self.path.format(
            org=server.organisation_id(SHOWN_ORGANISATION), user=server.user_id(REPRESENTATIVE.email)
        )


PAGES = [
    MainPage("login", None, "/login"),
    MainPage("home", "officer", "/"),
    MainPage("home-representative", "representative", "/"),
    MainPage("directory", "officer", "/organisations"),
    MainPage("organisation-profile", "officer", "/organisations/{org}"),
    MainPage("organisation-contacts", "officer", "/organisations/{org}/contacts"),
    MainPage("organisation-activities", "officer", "/organisations/{org}/activities"),
    MainPage("organisation-edit", "officer", "/organisations/{org}/edit"),
    MainPage("organisation-representatives", "officer", "/organisations/{org}/representatives"),
    MainPage("map", "officer", "/map"),
    MainPage("import", "officer", "/import/organisations"),
    MainPage("partners", "officer", "/partners"),
    MainPage("users", "admin", "/admin/users"),
    MainPage("user-form", "admin", "/admin/users/{user}"),
    MainPage("user-form-new", "admin", "/admin/users/new"),
    MainPage("api-tokens", "officer", "/account/tokens"),
    MainPage("not-found", "officer", "/no-such-page", status=404),
]
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def open_main_page(
    signed_in_page: OpenPage, demo_server: DemoServer, page: MainPage, viewport: dict[str, int]
) -> Page:
    browser_page = signed_in_page(page.persona, viewport)
    response = browser_page.goto(page.url(demo_server))
    assert response is not None
    assert response.status == page.status, f"{page.name}: {response.status} {response.url}"
    return browser_page


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
@pytest.mark.parametrize("main_page", PAGES, ids=[p.name for p in PAGES])
def test_page_has_no_serious_or_critical_accessibility_violation(
    signed_in_page: OpenPage,
    demo_server: DemoServer,
    axe_source: str,
    main_page: MainPage,
    viewport: dict[str, int],
) -> None:
    page = open_main_page(signed_in_page, demo_server, main_page, viewport)
    screenshot(page, main_page.name)
    violations = serious_accessibility_violations(page, axe_source)
    if violations:
        pytest.fail(
            f"axe-core on {main_page.name} at {viewport['width']} px:\n{describe_violations(violations)}",
            pytrace=False,
        )


@pytest.mark.parametrize("main_page", PAGES, ids=[p.name for p in PAGES])
def test_page_fits_a_phone_without_scrolling_sideways(
    signed_in_page: OpenPage, demo_server: DemoServer, main_page: MainPage
) -> None:
    page = open_main_page(signed_in_page, demo_server, main_page, PHONE)
    width = page_width(page)
    if width > PHONE["width"]:
        pytest.fail(
            f"{main_page.name} is {width} px wide on a {PHONE['width']} px phone; sticking out: "
            + "; ".join(overflowing_elements(page)),
            pytrace=False,
        )
