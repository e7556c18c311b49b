"""The framework pages: every role reads the frameworks (the questions, not anyone's answers), version by
version, in its own language, with how a new version maps its indicators to the previous one."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from crm.accounts.models import User
from crm.assessments.framework_summaries import mapping_in_words
from crm.assessments.models import Framework
from tests.assessments.conftest import framework_document


def text(words: str) -> dict[str, str]:
    return {"en": words, "fr": f"{words} (fr)"}


def indicator(code: str, maps_to: dict[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "code": code,
        "question": text(f"Question {code}"),
        "levels": [text(f"{code} level {n}") for n in range(1, 5)],
    }
    if maps_to is not None:
        found["maps_to"] = maps_to
    return found


def second_version() -> dict[str, Any]:
    """Version 2: governance.first unchanged, governance.second split in two, finance's two merged into one,
    digital with a new indicator only."""
    return framework_document(
        version=2,
        previous_version=1,
        domains=[
            {
                "code": "governance",
                "name": text("Governance"),
                "indicators": [
                    indicator("governance.first", {"kind": "same", "from": ["governance.first"]}),
                    indicator("governance.board", {"kind": "split", "from": ["governance.second"]}),
                    indicator("governance.members", {"kind": "split", "from": ["governance.second"]}),
                ],
            },
            {
                "code": "finance",
                "name": text("Finance"),
                "indicators": [
                    indicator("finance.all", {"kind": "merged", "from": ["finance.first", "finance.second"]}),
                ],
            },
            {"code": "digital", "name": text("Digital"), "indicators": [indicator("digital.data")]},
        ],
    )


@pytest.fixture
def as_trainer(login: Any, trainer: User) -> Any:
    return login(trainer)


def test_every_role_reads_the_list_of_frameworks_with_their_versions(
    as_trainer: Any, load_framework: Any, framework: Framework
) -> None:
    newer = load_framework(second_version())

    page = as_trainer.get("/frameworks")

    assert page.status_code == 200
    assert "Test capacity framework" in page.text and "test-capacity" in page.text
    versions = re.findall(r'<a href="/frameworks/(\d+)">Version (\d+)</a>', page.text)
    assert versions == [(str(newer.id), "2"), (str(framework.id), "1")]
    assert page.text.count('<span class="badge ok">newest</span>') == 1


def test_the_list_says_how_big_each_version_is_and_how_many_assessments_use_it(
    as_trainer: Any, framework: Framework, make_organisation: Any, validated_round: Any
) -> None:
    validated_round(make_organisation("First"), framework, "3")
    validated_round(make_organisation("Second"), framework, "2")

    row = re.search(
        r"<tr>\s*<td[^>]*><a href=\"/frameworks/\d+\">Version 1</a>.*?</tr>",
        as_trainer.get("/frameworks").text,
        re.S,
    )

    assert row
    cells = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    ]
    assert cells[2:] == ["3", "6", "2 assessments"]


def test_the_list_says_so_when_no_framework_is_loaded(as_trainer: Any) -> None:
    page = as_trainer.get("/frameworks")

    assert "No assessment framework has been loaded yet." in page.text


def test_a_framework_page_shows_its_domains_indicators_and_four_levels(
    as_trainer: Any, framework: Framework
) -> None:
    page = as_trainer.get(f"/frameworks/{framework.id}").text

    assert [
        html.unescape(name) for name in re.findall(r'<h2 id="domain-[\w.]+-name">\d+\. ([^<]+)', page)
    ] == [
        "Governance ",
        "Finance ",
        "Digital ",
    ]
    assert "finance second" in page
    for level in range(1, 5):
        assert f"<strong>Level {level}</strong> finance second level {level}" in page
    assert "used by 0 assessments" in page


def test_a_framework_page_speaks_the_readers_language(
    login: Any, make_user: Any, framework: Framework
) -> None:
    reader = login(make_user("org_representative", language="fr"))

    page = reader.get(f"/frameworks/{framework.id}").text

    assert "Test capacity framework (fr)" in page
    assert "Governance (fr)" in page
    assert "governance first level 4 (fr)" in page


def test_a_new_version_says_how_each_indicator_relates_to_the_previous_one(
    as_trainer: Any, load_framework: Any, framework: Framework
) -> None:
    newer = load_framework(second_version())

    page = as_trainer.get(f"/frameworks/{newer.id}").text
    previous = f"/frameworks/{framework.id}"

    assert re.search(
        rf'Same as <a href="{previous}#indicator-governance.first">governance.first</a> in version 1', page
    )
    assert (
        page.count(f'Split from <a href="{previous}#indicator-governance.second">governance.second</a>') == 2
    )
    assert re.search(
        rf'Merged from <a href="{previous}#indicator-finance.first">finance.first</a>, '
        rf'<a href="{previous}#indicator-finance.second">finance.second</a> in version 1',
        page,
    )
    assert "New in this version: compared with nothing in version 1" in page
    assert 'id="indicator-governance.second"' in as_trainer.get(previous).text


def test_a_first_version_has_no_mapping_to_show(as_trainer: Any, framework: Framework) -> None:
    page = as_trainer.get(f"/frameworks/{framework.id}").text

    assert 'class="mapping' not in page
    assert "Versions:" not in page


def test_versions_link_to_each_other(as_trainer: Any, load_framework: Any, framework: Framework) -> None:
    newer = load_framework(second_version())

    page = as_trainer.get(f"/frameworks/{framework.id}").text

    assert f'<a href="/frameworks/{newer.id}">Version 2</a>' in page
    assert '<strong aria-current="page">Version 1</strong>' in page


def test_an_unknown_framework_is_not_found(as_trainer: Any, framework: Framework) -> None:
    assert as_trainer.get(f"/frameworks/{framework.id + 100}").status_code == 404
    assert as_trainer.get("/frameworks/99999999999999999999").status_code in (404, 400)


def test_an_account_without_a_role_reads_no_framework(
    login: Any, make_user: Any, db: Any, framework: Framework
) -> None:
    user = make_user("trainer")
    user.role_rows.clear()
    db.commit()
    client = login(user)

    assert client.get("/frameworks").status_code == 403
    assert client.get(f"/frameworks/{framework.id}").status_code == 403


def test_mapping_words_escape_the_codes_and_say_nothing_for_a_first_version() -> None:
    words = mapping_in_words("merged", ["a.<b>", "c"], 3, lambda code: f"/x#{code}")

    assert str(words) == (
        'Merged from <a href="/x#a.&lt;b&gt;">a.&lt;b&gt;</a>, <a href="/x#c">c</a> in version 3'
    )
    assert str(mapping_in_words("same", ["a"], None, str)) == ""
