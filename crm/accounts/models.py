"""Users, their roles, login sessions, login attempts and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.accounts.roles import STAFF_ROLES, Role
from crm.db.base import Audited, Base, IdMixin, TimestampMixin, UTCDateTime, VersionedMixin, utcnow


class User(IdMixin, TimestampMixin, VersionedMixin, Audited, Base):
    __tablename__ = "users"
    __audit_exclude__ = ("created_at", "updated_at", "version", "password_hash", "last_login_at")

    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    language: Mapped[str] = mapped_column(String(5), nullable=False, default="en")
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, default="Europe/Paris")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The organisation an org representative speaks for (accounts names the table, not the model).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(row.role) for row in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return any(row.role in roles for row in self.role_rows)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_staff(self) -> bool:
        return self.has_role(*STAFF_ROLES)

    @property
    def represented_organisation_id(self) -> int | None:
        """The organisation this user speaks for: linked to one and holding the representative role. A link
        without the role (the role was taken away) gives no access to that organisation."""
        return self.organisation_id if self.has_role(Role.ORG_REPRESENTATIVE) else None

    @property
    def display_name(self) -> str:
        return User.name_to_show(self.full_name, self.email)

    @staticmethod
    def name_to_show(full_name: str | None, email: str) -> str:
        """How a person is named on pages: the full name, else the address (for lists read as columns)."""
        return full_name or email


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class UserSession(IdMixin, Base):
    """A login; the cookie holds a random token, the table only its SHA-256 so a leak of it logs nobody in."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class LoginAttempt(IdMixin, Base):
    """Failed logins, counted per IP and account to refuse guessing."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_ip_email_at", "ip", "email", "attempted_at"),)

    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class ApiToken(IdMixin, Audited, Base):
    __tablename__ = "api_tokens"
    __audit_exclude__ = ("token_hash", "last_used_at")

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


__all__ = ["ApiToken", "LoginAttempt", "User", "UserRole", "UserSession"]
