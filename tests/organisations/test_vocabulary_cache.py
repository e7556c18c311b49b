"""The per-process cache of reference vocabularies: shared while nothing changes, dropped when a change is
flushed, private to the changing session until it commits, and re-read after its time to live."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from crm.accounts.models import User
from crm.db.engine import make_sessionmaker
from crm.organisations import vocabularies
from crm.organisations.models import Sector


def test_the_vocabularies_are_read_once_and_shared(
    engine: Engine, db: Session, reference: None, count_statements: Any
) -> None:
    db.commit()
    first = vocabularies.vocabularies(db)
    with make_sessionmaker(engine)() as other, count_statements() as counted:
        second = vocabularies.vocabularies(other)
    assert second is first
    assert counted.count == 0
    assert "education" in first.sectors


def test_a_change_made_through_the_orm_is_seen_at_once(engine: Engine, db: Session, reference: None) -> None:
    db.commit()
    assert vocabularies.vocabularies(db).sectors["education"].label_en == "Education"

    sector = db.get(Sector, "education")
    assert sector is not None
    sector.label_en = "Education and training"
    db.flush()
    # The changing session sees its own change; others keep the committed labels until it commits.
    assert vocabularies.vocabularies(db).sectors["education"].label_en == "Education and training"
    with make_sessionmaker(engine)() as other:
        assert vocabularies.vocabularies(other).sectors["education"].label_en == "Education"
    db.commit()
    with make_sessionmaker(engine)() as other:
        assert vocabularies.vocabularies(other).sectors["education"].label_en == "Education and training"


def test_a_rolled_back_change_is_forgotten(engine: Engine, db: Session, reference: None) -> None:
    db.commit()
    sector = db.get(Sector, "education")
    assert sector is not None
    sector.label_en = "Never saved"
    db.flush()
    db.rollback()
    with make_sessionmaker(engine)() as other:
        assert vocabularies.vocabularies(other).sectors["education"].label_en == "Education"
    assert vocabularies.vocabularies(db).sectors["education"].label_en == "Education"


def test_a_change_from_another_process_is_seen_after_the_time_to_live(
    engine: Engine, db: Session, reference: None, monkeypatch: Any
) -> None:
    db.commit()
    assert vocabularies.vocabularies(db).sectors["education"].label_en == "Education"
    # Another process (crm seed reference) writes without this process's ORM knowing.
    with engine.begin() as conn:
        conn.execute(update(Sector).where(Sector.code == "education").values(label_en="Schools"))
    db.rollback()
    assert vocabularies.vocabularies(db).sectors["education"].label_en == "Education"

    cache = vocabularies._vocabularies
    monkeypatch.setattr(cache, "ttl", 0.0)
    cache.clear()
    assert vocabularies.vocabularies(db).sectors["education"].label_en == "Schools"


def test_the_directory_shows_a_renamed_sector(
    login: Any, officer: User, db: Session, make_organisation: Any
) -> None:
    make_organisation("Renamed Sector Org", sectors=["education"])
    client = login(officer)
    assert "Education" in client.get("/organisations").text

    sector = db.get(Sector, "education")
    assert sector is not None
    sector.label_en = "Learning"
    db.commit()
    page = client.get("/organisations").text
    assert "Learning" in page
