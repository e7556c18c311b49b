"""Rules and persistence for users, roles, login sessions, login throttling and API tokens."""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import available_timezones

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from crm.accounts.models import ApiToken, LoginAttempt, User, UserRole, UserSession
from crm.accounts.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from crm.accounts.roles import Role
from crm.db.audit import record_event
from crm.db.base import utcnow
from crm.db.engine import serialise, writing
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
    if current - wanted:
        # A login or a token must not keep what the account just lost.
        end_all_access(session, user)


def set_password(session: Session, user: User, password: str) -> None:
    validate_password(password)
    user.password_hash = hash_password(password)
    # A new password ends every login and API token of this account, so a stolen cookie or token stops too.
    end_all_access(session, user)
    record_event(session, "password", "users", user.id)


def end_all_access(session: Session, user: User) -> None:
    """End every web session and revoke every API token of the account."""
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


# Signing in -----------------------------------------------------------------------------------------


class SignInResult(enum.Enum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignIn:
    result: SignInResult
    user: User | None = None
    token: str | None = None


def sign_in(session: Session, ip: str, email: str, password: str, *, limit: int, days: int) -> SignIn:
    """Check a password and start a login, throttled per address and account.

    Three short transactions, so that nothing slow holds the database and no failure goes uncounted:
    1. the attempt is counted before the password is checked, and committed: however many arrive at once,
       and whatever happens to their requests, at most `limit` a minute get as far as the password check;
    2. the password is checked (argon2, tens of milliseconds) with no transaction open;
    3. on success the attempt is taken back and the login written."""
    email = normalise_email(email)
    with writing(session):
        serialise(session, f"sign-in {ip} {email}")
        if _recent_attempts(session, ip, email) >= limit:
            return SignIn(SignInResult.THROTTLED)
        session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < utcnow() - timedelta(hours=1)))
        attempt = LoginAttempt(ip=ip, email=email[:254])
        session.add(attempt)
        user = get_user_by_email(session, email)
    if user is None or not user.is_active:
        verify_password(DUMMY_HASH, password)
        return SignIn(SignInResult.WRONG)
    if not verify_password(user.password_hash, password):
        return SignIn(SignInResult.WRONG)
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
    with writing(session):
        session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
        token = start_session(session, user, ip, days, new_hash=new_hash)
    return SignIn(SignInResult.SIGNED_IN, user=user, token=token)


def _recent_attempts(session: Session, ip: str, email: str) -> int:
    since = utcnow() - timedelta(minutes=1)
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.ip == ip, LoginAttempt.email == email, LoginAttempt.attempted_at > since)
        )
        or 0
    )


def check_credentials(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (for the command line and tests)."""
    user = get_user_by_email(session, email)
    if user is None or not user.is_active:
        verify_password(DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


# Sessions -------------------------------------------------------------------------------------------


def start_session(session: Session, user: User, ip: str, days: int, new_hash: str | None = None) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_digest(token), user_id=user.id, expires_at=utcnow() + timedelta(days=days), ip=ip
        )
    )
    # Bookkeeping, not an edit: written without the version check, so two logins at once or an admin
    # editing the account meanwhile never conflict with it.
    values: dict[str, object] = {"last_login_at": utcnow()}
    if new_hash is not None:
        values["password_hash"] = new_hash
    session.execute(
        update(User).where(User.id == user.id).values(**values).execution_options(synchronize_session=False)
    )
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


_USER_FOR_API_TOKEN = (
    select(User, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
    .options(joinedload(User.role_rows))
)
# Writing on every call would make every API read a writer; once a minute is enough to show use.
TOKEN_USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenUse:
    user: User
    token_id: int
    stale: bool
    """The token's last use is older than TOKEN_USE_PRECISION: record this one (`record_token_use`)."""


def user_for_api_token(session: Session, secret: str) -> TokenUse | None:
    """The active user an API token belongs to, read without writing anything."""
    row = session.execute(_USER_FOR_API_TOKEN, {"token_hash": _digest(secret)}).unique().first()
    if row is None or not row[0].is_active:
        return None
    user, token_id, last_used_at = row
    stale = last_used_at is None or utcnow() - last_used_at > TOKEN_USE_PRECISION
    return TokenUse(user=user, token_id=token_id, stale=stale)


def record_token_use(session: Session, token_id: int) -> None:
    now = utcnow()
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .where(or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOKEN_USE_PRECISION))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


# Administration -------------------------------------------------------------------------------------


def list_users(session: Session, page: int, per_page: int, query: str = "") -> Page[User]:
    stmt = select(User)
    if query:
        pattern = f"%{query.strip().lower()}%"
        stmt = stmt.where(func.lower(User.email).like(pattern) | func.lower(User.full_name).like(pattern))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(stmt.order_by(User.email).offset((page - 1) * per_page).limit(per_page)).all()
    return Page(items=items, number=page, per_page=per_page, total=total)
