"""Rules and persistence for users, roles, login sessions, login throttling and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import available_timezones

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session, joinedload

from crm.accounts.models import ApiToken, LoginAttempt, User, UserRole, UserSession
from crm.accounts.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from crm.accounts.roles import Role
from crm.db.audit import record_event
from crm.db.base import utcnow
from crm.web.i18n import N_
from crm.web.pagination import Page

API_TOKEN_PREFIX = "crm_"


class AccountError(ValueError):
    """A user-facing refusal: the message says what is wrong (field → message)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise AccountError("password", N_("Password must be at least 10 characters long."))


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    session: Session,
    email: str,
    password: str,
    roles: Iterable[Role | str],
    full_name: str = "",
    language: str = "en",
    time_zone: str = "Europe/Paris",
    password_hash: str | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("email", N_("Enter a valid email address."))
    if get_user_by_email(session, email) is not None:
        raise AccountError("email", N_("A user with this email already exists."))
    role_set = _parse_roles(roles)
    if time_zone not in available_timezones():
        raise AccountError("time_zone", N_("Unknown time zone."))
    if password_hash is None:
        validate_password(password)
        password_hash = hash_password(password)
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=password_hash,
        language=language if language in ("en", "fr") else "en",
        time_zone=time_zone,
        role_rows=[UserRole(role=role.value) for role in sorted(role_set)],
    )
    session.add(user)
    session.flush()
    return user


def _parse_roles(roles: Iterable[Role | str]) -> set[Role]:
    parsed: set[Role] = set()
    for role in roles:
        try:
            parsed.add(Role(role))
        except ValueError:
            raise AccountError("roles", N_("Unknown role.")) from None
    if not parsed:
        raise AccountError("roles", N_("Choose at least one role."))
    return parsed


def set_roles(session: Session, user: User, roles: Iterable[Role | str]) -> None:
    wanted = _parse_roles(roles)
    current = user.roles
    for row in list(user.role_rows):
        if Role(row.role) not in wanted:
            user.role_rows.remove(row)
    for role in sorted(wanted - current):
        user.role_rows.append(UserRole(role=role.value))
    if wanted != current:
        record_event(session, "roles", "users", user.id, before=sorted(current), after=sorted(wanted))


def set_password(session: Session, user: User, password: str) -> None:
    validate_password(password)
    user.password_hash = hash_password(password)
    # A new password ends every login of this account, so a stolen session cookie stops working too.
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    record_event(session, "password", "users", user.id)


# Login throttling -------------------------------------------------------------------------------------


def too_many_attempts(session: Session, ip: str, email: str, limit: int) -> bool:
    since = utcnow() - timedelta(minutes=1)
    count = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.ip == ip, LoginAttempt.email == normalise_email(email))
        .where(LoginAttempt.attempted_at > since)
    )
    return (count or 0) >= limit


def record_failed_login(session: Session, ip: str, email: str) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < utcnow() - timedelta(hours=1)))
    session.add(LoginAttempt(ip=ip, email=normalise_email(email)[:254]))
    session.flush()


def check_credentials(session: Session, email: str, password: str) -> User | None:
    user = get_user_by_email(session, email)
    if user is None or not user.is_active:
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


# Sessions -------------------------------------------------------------------------------------------


def start_session(session: Session, user: User, ip: str, days: int) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_digest(token), user_id=user.id, expires_at=utcnow() + timedelta(days=days), ip=ip
        )
    )
    user.last_login_at = utcnow()
    record_event(session, "login", "users", user.id, ip=ip)
    session.flush()
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))


# Built once: it runs before every page, and building the statement cost as much as running it.
_USER_FOR_SESSION = (
    select(User, UserSession.expires_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .options(joinedload(User.role_rows))
)


def user_for_session(session: Session, token: str) -> User | None:
    """The user a login cookie belongs to, with their roles, in one statement; None if expired or unknown."""
    row = session.execute(_USER_FOR_SESSION, {"token_hash": _digest(token)}).unique().first()
    if row is None:
        return None
    user, expires_at = row
    if expires_at <= utcnow() or not user.is_active:
        return None
    return user


# API tokens -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str


def create_api_token(session: Session, user: User, name: str) -> NewToken:
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("name", N_("Give the token a name of at most 100 characters."))
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(secret), prefix=secret[:10])
    session.add(token)
    session.flush()
    return NewToken(token=token, secret=secret)


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_api_token(session: Session, user: User, token_id: int) -> bool:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


def user_for_api_token(session: Session, secret: str) -> User | None:
    token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.is_active:
        return None
    now = utcnow()
    # Writing on every call would serialise API readers on SQLite; once a minute is enough to show use.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token.user


# Administration -------------------------------------------------------------------------------------


def list_users(session: Session, page: int, per_page: int, query: str = "") -> Page[User]:
    stmt = select(User)
    if query:
        pattern = f"%{query.strip().lower()}%"
        stmt = stmt.where(func.lower(User.email).like(pattern) | func.lower(User.full_name).like(pattern))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(stmt.order_by(User.email).offset((page - 1) * per_page).limit(per_page)).all()
    return Page(items=items, number=page, per_page=per_page, total=total)
