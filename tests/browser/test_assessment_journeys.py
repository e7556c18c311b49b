"""Capacity assessments through the UI: a representative answers a whole round by keyboard and sends it, the
officer validates it, two tabs of one respondent meet a conflict, and the pages of each state pass axe-core.

The journeys open rounds of their own in the demo representative's organisation (today's date) and leave the
demo's own rounds (three validated years, one round of another organisation waiting for validation) as the
seed made them, which test_pages photographs. They accept a round already in progress there, whatever test
left it, so that they pass in any order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    DemoServer,
    describe_violations,
    new_context,
    overflowing_elements,
    page_width,
    screenshot,
    serious_accessibility_violations,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The demo representative's organisation (seeds/demo/organisations.json, "o-rhmd-mtl").
OWN_ORGANISATION = "Regroupement des Haïtiens de Montréal pour le développement"
# The answers in their order on the page (the radio group's order, which the arrow keys follow).
CHOICES = ("1", "2", "3", "4", "na", "dk")
CHOICE_WORDS = {"1": "Level 1", "2": "Level 2", "3": "Level 3", "4": "Level 4"}
CHOICE_WORDS.update(na="Not applicable", dk="Don’t know")
EVIDENCE = "Minutes of the general assembly of 14 March, with the treasurer's report attached."
LOWERING_COMMENT = "The accounts shown support level 2: no quarterly statements yet."
# Enough key presses to cross any page of the questionnaire: header, breadcrumb, five indicators, buttons.
MAX_TABS = 40

OpenPersonaContext = Callable[..., BrowserContext]


@pytest.fixture
def persona_context(
    browser: Browser, demo_server: DemoServer, signed_in_states: dict[str, dict[str, object]]
) -> Iterator[OpenPersonaContext]:
    """A fresh browser context signed in as a persona, in English (its own windows: journeys open tabs)."""
    contexts: list[BrowserContext] = []

    def make(persona: str, viewport: dict[str, int] = DESKTOP) -> BrowserContext:
        state = signed_in_states[persona]
        contexts.append(new_context(browser, demo_server, viewport, storage_state=state))
        return contexts[-1]

    yield make
    for context in contexts:
        context.close()


# Keyboard --------------------------------------------------------------------------------------------------


def has_focus(page: Page, target: Locator) -> bool:
    return bool(target.evaluate("el => el === document.activeElement"))


def tab_to(page: Page, target: Locator, what: str) -> None:
    """Presses Tab until `target` has focus, as someone without a mouse reaches it."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if has_focus(page, target):
            return
    pytest.fail(f"Tab never reaches {what} on {page.url}", pytrace=False)


def activate(page: Page, target: Locator, what: str, key: str = "Enter") -> None:
    tab_to(page, target, what)
    page.keyboard.press(key)


def choose_by_keyboard(page: Page, indicator_id: int, choice: str) -> bool:
    """Tabs into an indicator's radio group (focus lands on its checked answer, or on its first), then moves
    to `choice` with the arrow keys, or takes the focused one with Space. True if the answer changed."""
    name = f"choice-{indicator_id}"
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("name => document.activeElement.name === name", name):
            break
    else:
        pytest.fail(f"Tab never reaches the answers of indicator {indicator_id} on {page.url}", pytrace=False)
    value, checked = page.evaluate("() => [document.activeElement.value, document.activeElement.checked]")
    moves = (CHOICES.index(choice) - CHOICES.index(value)) % len(CHOICES)
    if moves == 0 and not checked:
        page.keyboard.press("Space")
    for _ in range(moves):
        page.keyboard.press("ArrowDown")
    expect(page.locator(f"#choice-{indicator_id}-{choice}")).to_be_checked()
    return moves > 0 or not checked


def wait_for_autosaves(page: Page) -> None:
    """Every autosave sent has come back (htmx marks an element with .htmx-request while it waits)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


# Pages -----------------------------------------------------------------------------------------------------


def link_or_button(page: Page, name: str | re.Pattern[str]) -> Locator:
    """An action styled as a button may be a link underneath; the user only reads its name."""
    return page.get_by_role("link", name=name).or_(page.get_by_role("button", name=name))


def indicator_ids(page: Page) -> list[int]:
    ids = page.locator("fieldset.q-indicator").evaluate_all("all => all.map(f => f.id)")
    return [int(i.removeprefix("indicator-")) for i in ids]


def step_url(response_id: int, step: int) -> re.Pattern[str]:
    return re.compile(rf"/assessments/responses/{response_id}/steps/{step}$")


def expect_accessible(page: Page, axe_source: str, what: str) -> None:
    violations = serious_accessibility_violations(page, axe_source)
    if violations:
        pytest.fail(f"axe-core on {what}:\n{describe_violations(violations)}", pytrace=False)


def expect_fits_a_phone(page: Page, what: str) -> None:
    width = page_width(page)
    if width > PHONE["width"]:
        pytest.fail(
            f"{what} is {width} px wide on a {PHONE['width']} px phone; sticking out: "
            + "; ".join(overflowing_elements(page)),
            pytrace=False,
        )


def open_own_round(page: Page, demo_server: DemoServer, by_keyboard: bool) -> int:
    """From the organisation's assessments, the round in progress, or a new one; returns its id."""
    page.goto(f"/organisations/{demo_server.organisation_id(OWN_ORGANISATION)}/assessments")
    expect(page.get_by_role("heading", level=1, name="Capacity assessments")).to_be_visible()
    start = page.get_by_role("button", name="Start an assessment")
    going_on = link_or_button(page, "Continue the assessment in progress")
    expect(start.or_(going_on)).to_be_visible()
    target, what = (start, "Start an assessment") if start.count() else (going_on, "the round in progress")
    if by_keyboard:
        activate(page, target, what)
    else:
        target.click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+$"))
    if what == "Start an assessment":
        expect(page.get_by_role("status").filter(has_text="Assessment started")).to_be_visible()
    expect(page.locator(".q-round-facts")).to_contain_text("Being answered")
    return int(page.url.rsplit("/", 1)[1])


def begin_own_answers(page: Page, by_keyboard: bool) -> int:
    """On a round's page: begin one's answers (saying one's role) or continue them; returns the response id."""
    begin = page.get_by_role("button", name="Answer this assessment")
    going_on = link_or_button(page, re.compile(r"^Continue my answers"))
    expect(begin.or_(going_on)).to_be_visible()
    if begin.count():
        role = page.get_by_label("Your role in the organisation (optional)")
        if by_keyboard:
            tab_to(page, role, "the role field")
            page.keyboard.type("Chair")
            page.keyboard.press("Enter")
        else:
            role.fill("Chair")
            begin.click()
    elif by_keyboard:
        activate(page, going_on, "Continue my answers")
    else:
        going_on.click()
    expect(page).to_have_url(re.compile(r"/assessments/responses/\d+/steps/\d+$"))
    return int(page.url.split("/responses/", 1)[1].split("/", 1)[0])


# Journeys --------------------------------------------------------------------------------------------------


def planned_choice(step: int, position: int, answered: int) -> str:
    """What the representative answers: the first indicator at level 3 (the officer lowers it), the first two
    of domain 2 "not applicable" and "don't know", the others levels 1 to 4 in turn."""
    if step == 1 and position == 0:
        return "3"
    if step == 2 and position < 2:
        return ("na", "dk")[position]
    return ("2", "3", "4", "1")[answered % 4]


def test_representative_answers_a_round_by_keyboard_and_the_officer_validates_it(
    persona_context: OpenPersonaContext, demo_server: DemoServer, axe_source: str
) -> None:
    page = persona_context("representative").new_page()
    round_id = open_own_round(page, demo_server, by_keyboard=True)
    response_id = begin_own_answers(page, by_keyboard=True)

    page.goto(f"/assessments/responses/{response_id}/steps/1")
    shown = re.search(r"of (\d+)", page.locator(".q-step").text_content() or "")
    assert shown, "the step says how many domains there are"
    steps = int(shown.group(1))
    assert steps >= 3, "the current framework has a few domains"
    chosen: dict[int, str] = {}
    status_seen = False
    for step in range(1, steps + 1):
        expect(page).to_have_url(step_url(response_id, step))
        expect(page.locator(".q-step")).to_have_text(f"Domain {step} of {steps}")
        ids = indicator_ids(page)
        for position, indicator in enumerate(ids):
            choice = planned_choice(step, position, len(chosen))
            changed = choose_by_keyboard(page, indicator, choice)
            chosen[indicator] = choice
            wait_for_autosaves(page)
            if changed and not status_seen:
                # The answer is saved as it is chosen, and the status (a live region) says so. (Another
                # journey may have given some answers already in the round in progress: those do not change.)
                status = page.locator(f"#status-{indicator}")
                expect(status).to_have_attribute("role", "status")
                expect(status).to_contain_text(re.compile(r"Saved at \d\d:\d\d"))
                screenshot(page, "assessment-questionnaire-saved")
                status_seen = True
            if step == 3 and position == 0:
                # One evidence note, typed where Tab leads after the answers; saved once typing pauses.
                version = page.locator(f"#version-{indicator}")
                before = version.input_value()
                page.keyboard.press("Tab")
                expect(page.locator(f"#evidence-{indicator}")).to_be_focused()
                page.keyboard.press("ControlOrMeta+A")  # replaces any note a previous run left
                page.keyboard.type(EVIDENCE)
                expect(version).not_to_have_value(before)
                wait_for_autosaves(page)
            if step == 3 and position == 1:
                # Mid-way: a reload keeps what was answered...
                page.reload()
                for kept in ids[:2]:
                    expect(page.locator(f"#choice-{kept}-{chosen[kept]}")).to_be_checked()
                expect(page.locator(f"#evidence-{ids[0]}")).to_have_value(EVIDENCE)
                # ...and coming back later resumes at the domain left open.
                page.goto(f"/assessments/{round_id}")
                resume = link_or_button(page, f"Continue my answers (domain 3 of {steps})")
                activate(page, resume, "Continue my answers")
                expect(page).to_have_url(step_url(response_id, 3))
                # Focus starts at the top again: Tab back past the answers already given.
                for again in ids[: position + 1]:
                    choose_by_keyboard(page, again, chosen[again])
        wait_for_autosaves(page)
        forward = "Save and continue" if step < steps else "Save and review"
        activate(page, page.get_by_role("button", name=forward).first, forward)

    assert status_seen, "at least one answer changed, and its status said it was saved"
    assert "na" in chosen.values() and "dk" in chosen.values()
    expect(page).to_have_url(re.compile(rf"/assessments/responses/{response_id}/review$"))
    expect(page.get_by_text("Every indicator is answered.")).to_be_visible()
    expect(page.locator("#q-progress")).to_contain_text(f"{len(chosen)} of {len(chosen)} indicators answered")
    screenshot(page, "assessment-review-complete")
    activate(page, page.get_by_role("button", name="Submit my answers"), "Submit my answers")

    expect(page).to_have_url(re.compile(rf"/assessments/{round_id}$"))
    expect(page.get_by_role("status").filter(has_text="Your answers are submitted")).to_be_visible()
    # Sending for validation asks first: a disclosure (opened with Enter) holds the confirming button.
    activate(page, page.get_by_role("button", name="Send for validation…"), "Send for validation…")
    send = page.get_by_role("button", name="Yes, send it for validation")
    expect(send).to_be_visible()
    activate(page, send, "Yes, send it for validation")
    expect(page.get_by_role("status").filter(has_text="Assessment sent for validation")).to_be_visible()
    expect(page.locator(".q-round-facts")).to_contain_text("Waiting for validation")
    expect(page.get_by_role("button", name="Send for validation…")).to_have_count(0)

    # The officer lowers the first indicator's score (self score 3, the representative's answer) with a reason.
    lowered = next(iter(chosen))
    officer = persona_context("officer").new_page()
    officer.goto(f"/assessments/{round_id}/validate")
    expect(officer.get_by_role("heading", level=1, name="Validate the self-assessment")).to_be_visible()
    # The page sums up what is left and leads to the validation step; each domain is a fold, open only
    # where respondents disagree or a score was adjusted: this one (one respondent, no review yet) is closed.
    expect(officer.locator("#validation-summary")).to_contain_text("0 indicators adjusted")
    expect(link_or_button(officer, "Go to the validation step")).to_have_attribute("href", "#validate")
    fold = officer.locator("details.review-domain").filter(has=officer.locator(f"#indicator-{lowered}"))
    expect(fold).not_to_have_attribute("open", "")
    fold.locator(":scope > summary").click()
    question = officer.locator(f"#indicator-{lowered} h3").inner_text()
    review = officer.locator(f"#review-{lowered}")
    expect(review).to_contain_text("Validated score: 3.00")
    # The comment box shows once a level other than the self score's is chosen.
    expect(officer.locator(f"#comment-{lowered}")).to_be_hidden()
    review.get_by_label("Validated level").select_option("2")
    expect(officer.locator(f"#comment-{lowered}")).to_be_visible()
    review.get_by_role("button", name="Save review").click()
    # Without a reason, the comment box says what is missing and takes focus.
    comment = officer.locator(f"#comment-{lowered}")
    expect(officer.locator(f"#comment-{lowered}-error")).to_contain_text(
        "Say why the validated score differs"
    )
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(comment).to_have_attribute("aria-describedby", f"comment-{lowered}-error")
    expect(comment).to_be_focused()
    expect(officer.locator(f"#level-{lowered}")).to_have_value("2")
    expect_accessible(officer, axe_source, "the validation page with a review refused")
    screenshot(officer, "assessment-validation-comment-missing")
    comment.fill(LOWERING_COMMENT)
    review.get_by_role("button", name="Save review").click()
    expect(review.get_by_role("status")).to_have_text("Review saved.")
    expect(review).to_contain_text("Validated level: 2")
    expect(review).to_contain_text(LOWERING_COMMENT)
    expect(officer.locator("#validation-summary")).to_contain_text("1 indicator adjusted")

    officer.get_by_role("button", name="Validate…").click()
    expect(officer.get_by_role("heading", level=2, name="Validate with these scores?")).to_be_visible()
    officer.get_by_role("button", name="Validate the assessment").click()

    expect(officer).to_have_url(re.compile(rf"/assessments/{round_id}/results$"))
    expect(officer.get_by_role("status").filter(has_text="Assessment validated")).to_be_visible()
    cards = officer.locator(".score-cards > article")
    self_card = cards.filter(has=officer.locator("header", has_text=re.compile("^Self-assessed$")))
    validated_card = cards.filter(has=officer.locator("header", has_text=re.compile("^Validated")))
    expect(self_card.locator(".score-big")).to_have_text(re.compile(r"^\d\.\d\d$"))
    expect(validated_card.locator(".score-big")).to_have_text(re.compile(r"^\d\.\d\d$"))
    # Side by side: one row of cards on a desktop.
    self_box, validated_box = self_card.bounding_box(), validated_card.bounding_box()
    assert self_box and validated_box
    assert abs(self_box["y"] - validated_box["y"]) < 1 and validated_box["x"] > self_box["x"]
    # The indicator shows both scores, marked as adjusted, with the officer's reason.
    first_domain = officer.locator("details.indicator-domain").first
    first_domain.locator("summary").click()
    row = first_domain.locator(".indicator-table tbody tr").filter(has_text=question)
    expect(row.locator("td").nth(0)).to_have_text("3.00")
    expect(row.locator("td").nth(2)).to_contain_text("2.00")
    expect(row.locator("td").nth(2)).to_contain_text("adjusted")
    expect(row.locator("td").nth(2)).to_contain_text(LOWERING_COMMENT)
    screenshot(officer, "assessment-results-just-validated")
    expect_accessible(officer, axe_source, "the results the officer has just validated")

    # The representative now reads the validated results too.
    page.goto(f"/assessments/{round_id}/results")
    expect(page.get_by_role("heading", level=1, name="Capacity assessment results")).to_be_visible()
    expect(page.locator(".score-cards")).to_contain_text("Validated")
    expect(page.get_by_text("Waiting for validation")).to_have_count(0)


def test_two_tabs_changing_one_answer_show_the_conflict_and_save_the_second_choice(
    persona_context: OpenPersonaContext, demo_server: DemoServer, axe_source: str
) -> None:
    context = persona_context("representative")
    first = context.new_page()
    open_own_round(first, demo_server, by_keyboard=False)
    response_id = begin_own_answers(first, by_keyboard=False)
    first.goto(f"/assessments/responses/{response_id}/steps/1")
    second = context.new_page()
    second.goto(f"/assessments/responses/{response_id}/steps/1")

    indicator = indicator_ids(first)[0]
    was = next(
        (c for c in CHOICES if first.locator(f"#choice-{indicator}-{c}").is_checked()),
        None,
    )
    mine, theirs = [c for c in ("2", "3", "4") if c != was][:2]

    first.locator(f"#choice-{indicator}-{mine}").check()
    expect(first.locator(f"#status-{indicator}")).to_contain_text("Saved at")
    wait_for_autosaves(first)

    # The second tab still holds the answer as it was: its change meets the first tab's.
    second.locator(f"#choice-{indicator}-{theirs}").check()
    conflict = second.locator(f"#indicator-{indicator} .q-conflict")
    expect(conflict).to_contain_text("This answer was changed in another tab or window")
    expect(conflict).to_contain_text(f"Your change, not saved: {CHOICE_WORDS[theirs]}")
    expect(conflict).to_have_attribute("role", "alert")
    expect(conflict).to_be_focused()
    # What is saved now is what the radio buttons show.
    expect(second.locator(f"#choice-{indicator}-{mine}")).to_be_checked()
    expect(second.locator(f"#choice-{indicator}-{theirs}")).not_to_be_checked()
    screenshot(second, "assessment-questionnaire-conflict")
    expect_accessible(second, axe_source, "the questionnaire showing a conflict")

    # Choosing again saves it, over the version the conflict brought.
    second.locator(f"#choice-{indicator}-{theirs}").check()
    expect(second.locator(f"#status-{indicator}")).to_contain_text("Saved at")
    expect(conflict).to_have_count(0)
    wait_for_autosaves(second)
    first.reload()
    expect(first.locator(f"#choice-{indicator}-{theirs}")).to_be_checked()


def test_questionnaire_and_review_in_progress_fit_a_phone_and_pass_axe(
    persona_context: OpenPersonaContext, demo_server: DemoServer, axe_source: str
) -> None:
    """The questionnaire as it is being answered (an answer saved, its status shown), on a phone."""
    page = persona_context("representative", PHONE).new_page()
    open_own_round(page, demo_server, by_keyboard=False)
    response_id = begin_own_answers(page, by_keyboard=False)
    page.goto(f"/assessments/responses/{response_id}/steps/2")
    indicator = indicator_ids(page)[0]
    page.locator(f"#choice-{indicator}-dk").check()
    expect(page.locator(f"#status-{indicator}")).to_contain_text("Saved at")
    wait_for_autosaves(page)
    expect_fits_a_phone(page, "the questionnaire with an answer saved")
    expect_accessible(page, axe_source, "the questionnaire with an answer saved, on a phone")
    screenshot(page, "assessment-questionnaire-answering")

    page.goto(f"/assessments/responses/{response_id}/review")
    expect(page.get_by_role("heading", level=1, name="Review your answers")).to_be_visible()
    expect(page.get_by_role("button", name="Submit my answers")).to_be_disabled()
    expect_fits_a_phone(page, "the review with indicators still to answer")
    expect_accessible(page, axe_source, "the review with indicators still to answer, on a phone")
    screenshot(page, "assessment-review-incomplete")
