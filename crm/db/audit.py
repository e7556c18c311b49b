"""The append-only audit log and the one mechanism that writes it: a flush listener on every session."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Integer, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.db.base import Audited, Base, IdMixin, UTCDateTime, utcnow

ACTOR_KEY = "actor_id"
EVENTS_KEY = "audit_events"


class AuditLog(IdMixin, Base):
    __tablename__ = "audit_log"

    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False, index=True)
    # No foreign key: the trail must outlive the users and records it mentions.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    entity: Mapped[str] = mapped_column(String(60), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(60), nullable=False)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


def set_actor(session: Session, actor_id: int | None) -> None:
    session.info[ACTOR_KEY] = actor_id


def record_event(session: Session, action: str, entity: str, entity_id: object, **details: Any) -> None:
    """Write a domain event that is not a plain row change (login, merge, ...) to the audit log."""
    session.execute(
        insert(AuditLog.__table__).values(
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            changes=_jsonable(details),
            actor_id=session.info.get(ACTOR_KEY),
            occurred_at=utcnow(),
        )
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _column_changes(obj: Any, include_unchanged: bool) -> dict[str, Any]:
    state = inspect(obj)
    excluded = set(getattr(obj, "__audit_exclude__", ()))
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in excluded or attr.key.startswith("password"):
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            changes[attr.key] = [_jsonable(old), _jsonable(new)]
        elif include_unchanged:
            changes[attr.key] = [_jsonable(getattr(obj, attr.key)), None]
    return changes


def _entity_id(obj: Any) -> str:
    # New objects have their primary key assigned but no identity key yet during after_flush.
    state = inspect(obj)
    key = state.identity or state.mapper.primary_key_from_instance(obj)
    return "-".join(str(v) for v in key)


@event.listens_for(Session, "before_flush")
def _remember_deleted(session: Session, _context: Any, _instances: Any) -> None:
    # Deleted objects' values must be read before the flush expunges them.
    pending = session.info.setdefault(EVENTS_KEY, [])
    for obj in session.deleted:
        if isinstance(obj, Audited):
            pending.append(
                {
                    "action": "delete",
                    "entity": obj.__tablename__,  # type: ignore[attr-defined]
                    "entity_id": _entity_id(obj),
                    "changes": _column_changes(obj, include_unchanged=True),
                }
            )


@event.listens_for(Session, "after_flush")
def _write_audit_rows(session: Session, _context: Any) -> None:
    rows = list(session.info.pop(EVENTS_KEY, []))
    for obj in session.new:
        if isinstance(obj, Audited):
            rows.append(
                {
                    "action": "create",
                    "entity": obj.__tablename__,  # type: ignore[attr-defined]
                    "entity_id": _entity_id(obj),
                    "changes": _column_changes(obj, include_unchanged=False),
                }
            )
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            changes = _column_changes(obj, include_unchanged=False)
            if changes:
                rows.append(
                    {
                        "action": "update",
                        "entity": obj.__tablename__,  # type: ignore[attr-defined]
                        "entity_id": _entity_id(obj),
                        "changes": changes,
                    }
                )
    if rows:
        actor = session.info.get(ACTOR_KEY)
        now = utcnow()
        session.connection().execute(
            insert(AuditLog.__table__), [{**row, "actor_id": actor, "occurred_at": now} for row in rows]
        )
