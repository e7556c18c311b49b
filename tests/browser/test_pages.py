"""Every main page, as the role that uses it sees it: accessible (axe-core), phone-sized, and photographed."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Playwright

from crm.assessments.demo import ROUND_DATES
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
# The demo representative's organisation: its last demo round (three respondents who disagree) is the one shown,
# and its questionnaire is the one in progress there (journeys open rounds of their own too, dated today).
OWN_ORGANISATION = "Regroupement des Haïtiens de Montréal pour le développement"
SHOWN_ROUND_OPENED_ON = ROUND_DATES[-1][0].isoformat()
SHOWN_FRAMEWORK = ("diaspora-capacity", 2)


@dataclass(frozen=True)
class MainPage:
    name: str
    persona: str | None
    path: str
    status: int = 200

    def url(self, ids: dict[str, int]) -> str:
        return self.path.format(**ids)


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
    MainPage("assessment-rounds", "representative", "/organisations/{own_org}/assessments"),
    MainPage("assessment-round", "representative", "/assessments/{round}"),
    MainPage("assessment-questionnaire", "representative", "/assessments/responses/{response}/steps/1"),
    MainPage("assessment-review", "representative", "/assessments/responses/{response}/review"),
    MainPage("assessment-results", "representative", "/assessments/{round}/results"),
    MainPage("assessment-results-officer", "officer", "/assessments/{round}/results"),
    MainPage("assessment-validation", "officer", "/assessments/{waiting}/validate"),
    MainPage("frameworks", "officer", "/frameworks"),
    MainPage("framework", "officer", "/frameworks/{framework}"),
    MainPage("portfolio", "officer", "/assessments/portfolio"),
    MainPage("portfolio-organisations", "officer", "/assessments/portfolio/organisations?domain=overall"),
    MainPage("training-calendar", "officer", "/training/calendar"),
    MainPage("training-calendar-list", "officer", "/training/calendar?view=list"),
    MainPage("my-calendar", "officer", "/training/my-calendar"),
    MainPage("training-programmes", "officer", "/training/programmes"),
    MainPage("training-programme-new", "officer", "/training/programmes/new"),
    MainPage("not-found", "officer", "/no-such-page", status=404),
]
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def draft_response(driver: Playwright, server: DemoServer, state: dict[str, object]) -> int:
    """The representative's response in her organisation's round in progress: begun now if a journey has not
    begun one already (starting when no round is in progress), as her own buttons would."""
    found = server.draft_response_id(REPRESENTATIVE.email)
    if found is not None:
        return found
    request = driver.request.new_context(base_url=server.base_url, storage_state=state)  # type: ignore[arg-type]
    try:
        csrf = next(c["value"] for c in request.storage_state()["cookies"] if c["name"] == "csrftoken")
        started = request.post(
            f"/organisations/{server.organisation_id(OWN_ORGANISATION)}/assessments",
            form={"_csrf_token": csrf},
        )
        assert started.ok, f"the representative starts an assessment: {started.status} {started.url}"
        begun = request.post(
            f"{urlparse(started.url).path}/respond", form={"_csrf_token": csrf, "role": "Chair"}
        )
        assert begun.ok, f"the representative begins her answers: {begun.status} {begun.url}"
    finally:
        request.dispose()
    found = server.draft_response_id(REPRESENTATIVE.email)
    assert found is not None, (
        "the representative has answers in progress (is a round waiting for validation?)"
    )
    return found


@pytest.fixture(scope="module")
def page_ids(
    playwright_driver: Playwright, demo_server: DemoServer, signed_in_states: dict[str, dict[str, object]]
) -> dict[str, int]:
    """The ids in the pages' addresses, looked up in (or, for the questionnaire, made in) the demo data."""
    return {
        "org": demo_server.organisation_id(SHOWN_ORGANISATION),
        "user": demo_server.user_id(REPRESENTATIVE.email),
        "own_org": demo_server.organisation_id(OWN_ORGANISATION),
        "round": demo_server.round_id(OWN_ORGANISATION, SHOWN_ROUND_OPENED_ON),
        "waiting": demo_server.waiting_round_id(),
        "framework": demo_server.framework_id(*SHOWN_FRAMEWORK),
        "response": draft_response(playwright_driver, demo_server, signed_in_states["representative"]),
    }


def open_main_page(
    signed_in_page: OpenPage, page_ids: dict[str, int], page: MainPage, viewport: dict[str, int]
) -> Page:
    browser_page = signed_in_page(page.persona, viewport)
    response = browser_page.goto(page.url(page_ids))
    assert response is not None
    assert response.status == page.status, f"{page.name}: {response.status} {response.url}"
    return browser_page


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
@pytest.mark.parametrize("main_page", PAGES, ids=[p.name for p in PAGES])
def test_page_has_no_serious_or_critical_accessibility_violation(
    signed_in_page: OpenPage,
    page_ids: dict[str, int],
    axe_source: str,
    main_page: MainPage,
    viewport: dict[str, int],
) -> None:
    page = open_main_page(signed_in_page, page_ids, main_page, viewport)
    screenshot(page, main_page.name)
    violations = serious_accessibility_violations(page, axe_source)
    if violations:
        pytest.fail(
            f"axe-core on {main_page.name} at {viewport['width']} px:\n{describe_violations(violations)}",
            pytrace=False,
        )


@pytest.mark.parametrize("main_page", PAGES, ids=[p.name for p in PAGES])
def test_page_fits_a_phone_without_scrolling_sideways(
    signed_in_page: OpenPage, page_ids: dict[str, int], main_page: MainPage
) -> None:
    page = open_main_page(signed_in_page, page_ids, main_page, PHONE)
    width = page_width(page)
    if width > PHONE["width"]:
        pytest.fail(
            f"{main_page.name} is {width} px wide on a {PHONE['width']} px phone; sticking out: "
            + "; ".join(overflowing_elements(page)),
            pytrace=False,
        )
