"""Accounts and their API tokens.

A token is 32 random bytes shown once; only its SHA-256 is stored (a token has far more entropy
than a password, so a slow hash would add nothing). Passwords for the web login are hashed with
Argon2id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import JSON, DateTime, ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from registry.core.db import Base
from registry.core.errors import Conflict, InvalidData, NotFound, Unauthenticated
from registry.core.permissions import ROLES, Actor

TOKEN_PREFIX = "crr_"
_hasher = PasswordHasher()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite gives back naive datetimes; they were stored in UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="account")

    def actor(self, token_id: int | None = None) -> Actor:
        return Actor(self.name, self.role, frozenset(self.scopes or ()), self.id, token_id)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so a person can tell tokens apart in a list without the secret.
    hint: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    account: Mapped[Account] = relationship(back_populates="tokens")

    def state(self, now: dt.datetime | None = None) -> str:
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and _aware(self.expires_at) <= now:
            return "expired"
        return "active"


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_role(role: str, scopes: list[str]) -> None:
    if role not in ROLES:
        raise InvalidData(
            f"Unknown role {role!r}.", errors={"role": [f"One of {', '.join(ROLES)}."]}
        )
    if role in ("ministry", "institution") and not scopes:
        raise InvalidData(
            f"A {role} account needs a scope.",
            errors={
                "scope": [
                    "A country or framework code (ministry), an institution id (institution)."
                ]
            },
        )


def get_or_create_account(session: Session, name: str, role: str, scopes: list[str]) -> Account:
    """The named account; created with this role and scope if new. A different role is a
    Conflict."""
    _check_role(role, scopes)
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        account = Account(name=name, role=role, scopes=sorted(set(scopes)))
        session.add(account)
        session.flush()
    elif account.role != role or sorted(account.scopes) != sorted(set(scopes)):
        raise Conflict(
            f"Account {name!r} exists with role {account.role} and scope {account.scopes}.",
            existing={"name": name, "role": account.role, "scopes": account.scopes},
        )
    return account


def set_password(account: Account, password: str) -> None:
    if len(password) < 12:
        raise InvalidData(
            "Passwords need at least 12 characters.", errors={"password": ["Too short."]}
        )
    account.password_hash = _hasher.hash(password)


def check_password(session: Session, name: str, password: str) -> Account:
    """The account if the password is right; Unauthenticated otherwise, saying nothing more."""
    account = session.scalar(select(Account).where(Account.name == name))
    try:
        if account is None or account.password_hash is None or account.disabled_at is not None:
            raise VerificationError
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("Unknown account or wrong password.") from None
    return account


def create_token(
    session: Session,
    account: Account,
    *,
    label: str | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the account; the secret is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account=account,
        token_hash=_hash_token(secret),
        hint=secret[:10],
        label=label,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def authenticate(session: Session, secret: str) -> Actor:
    """The actor a bearer token stands for; Unauthenticated for unknown, expired or revoked ones."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    if token is None:
        raise Unauthenticated("Unknown token.")
    state = token.state()
    if state != "active" or token.account.disabled_at is not None:
        raise Unauthenticated(f"This token is {state if state != 'active' else 'disabled'}.")
    return token.account.actor(token.id)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token
