"""Loading frameworks: every mistake in a file is one line naming the element at fault; a version in use by an
assessment never changes; a new version maps to the previous one only through codes that exist."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.assessments import service
from crm.assessments.framework import FrameworkError, parse_framework
from crm.assessments.models import Framework, FrameworkIndicator
from tests.assessments.conftest import encode, framework_document


def refusal(document: Any) -> str:
    raw = document if isinstance(document, bytes) else encode(document)
    with pytest.raises(FrameworkError) as refused:
        parse_framework(raw)
    message = str(refused.value)
    assert "\n" not in message
    return message


def changed(edit: Any) -> dict[str, Any]:
    document = copy.deepcopy(framework_document())
    edit(document)
    return document


def test_three_levels_are_refused_naming_the_indicator() -> None:
    document = changed(lambda d: d["domains"][2]["indicators"][1]["levels"].pop())
    assert refusal(document) == "domains[2].indicators[1].levels: 3 levels, 4 expected"


def test_a_missing_french_text_names_its_path() -> None:
    document = changed(lambda d: d["domains"][0]["indicators"][0]["levels"][3].pop("fr"))
    assert refusal(document) == "domains[0].indicators[0].levels[3].fr: a non-empty text expected"


def test_a_code_used_twice_is_refused() -> None:
    def duplicate(d: dict[str, Any]) -> None:
        d["domains"][1]["indicators"][1]["code"] = d["domains"][1]["indicators"][0]["code"]

    assert refusal(changed(duplicate)) == "domains[1].indicators[1].code: “finance.first” is used twice"


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        (b"\xff\xfe", "the file is not UTF-8 text"),
        (b'{"key": ', "line 1, column 9: not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "file: not valid JSON"),
        (b"[]", "(file): an object expected, found a list"),
    ],
)
def test_what_is_not_a_framework_file_at_all_is_one_line(raw: bytes, start: str) -> None:
    assert refusal(raw) == start


def test_a_mapping_needs_a_previous_version() -> None:
    document = changed(
        lambda d: d["domains"][0]["indicators"][0].update(maps_to={"kind": "same", "from": ["x"]})
    )
    assert (
        refusal(document)
        == "domains[0].indicators[0].maps_to: given, but the framework names no previous_version"
    )


def test_a_merge_needs_two_sources() -> None:
    document = framework_document(version=2, previous_version=1)
    document["domains"][0]["indicators"][0]["maps_to"] = {"kind": "merged", "from": ["governance.first"]}
    assert refusal(document) == (
        "domains[0].indicators[0].maps_to.from: 1 given, two codes or more expected for “merged”"
    )


def test_loading_the_same_file_twice_changes_nothing(db: Session) -> None:
    spec = parse_framework(encode(framework_document()))
    first, created = service.load_framework(db, spec)
    again, created_again = service.load_framework(db, spec)
    assert created and not created_again and first.id == again.id


def test_a_version_used_by_an_assessment_is_never_changed(
    db: Session, framework: Framework, make_organisation: Any, make_representative: Any, open_round: Any
) -> None:
    organisation = make_organisation()
    open_round(organisation, make_representative(organisation), framework)
    edited = framework_document()
    edited["domains"][0]["name"]["en"] = "Governance, reworded"
    with pytest.raises(FrameworkError, match="used by 1 assessments and cannot change"):
        service.load_framework(db, parse_framework(encode(edited)))
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Framework)) == 1


def test_an_unused_version_may_be_corrected(db: Session, framework: Framework) -> None:
    edited = framework_document()
    edited["domains"][0]["name"]["en"] = "Governance, reworded"
    corrected, created = service.load_framework(db, parse_framework(encode(edited)))
    db.commit()
    assert created and db.scalar(select(func.count()).select_from(Framework)) == 1
    assert service.structure(db, corrected).domains[0].name["en"] == "Governance, reworded"


def test_a_mapping_to_an_unknown_code_of_the_previous_version_is_refused(
    db: Session, framework: Framework
) -> None:
    document = framework_document(version=2, previous_version=1)
    document["domains"][0]["indicators"][0]["maps_to"] = {"kind": "same", "from": ["governance.nope"]}
    with pytest.raises(FrameworkError) as refused:
        service.load_framework(db, parse_framework(encode(document)))
    assert str(refused.value) == (
        "domains[0].indicators[0].maps_to.from: “governance.nope” is not an indicator of version 1"
    )


def test_a_new_version_stores_its_mapping(db: Session, framework: Framework) -> None:
    document = framework_document(version=2, previous_version=1)
    first, second = document["domains"][1]["indicators"]
    first["maps_to"] = {"kind": "merged", "from": ["finance.first", "finance.second"]}
    second["maps_to"] = {"kind": "new", "from": []}
    newer, _ = service.load_framework(db, parse_framework(encode(document)))
    assert newer.previous_id == framework.id
    stored = {
        i.code: (i.mapping_kind, i.maps_from)
        for i in db.scalars(select(FrameworkIndicator).where(FrameworkIndicator.framework_id == newer.id))
    }
    assert stored["finance.first"] == ("merged", ["finance.first", "finance.second"])
    assert stored["finance.second"] == ("new", [])
    # Indicators a new version does not map are new: nothing earlier compares with them.
    assert stored["governance.first"] == ("new", [])
