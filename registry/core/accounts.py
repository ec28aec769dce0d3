"""Accounts and their API tokens.

A token is 32 random bytes shown once; only its SHA-256 is stored (a token has far more entropy
than a password, so a slow hash would add nothing). Passwords for the web login are hashed with
Argon2id, and must be neither common (the 30,000 most common passwords zxcvbn ships) nor easy to
guess (zxcvbn's strength estimate). Checking a password costs one Argon2 verification whether
the account exists or not, so that names cannot be told apart by the time an answer takes.
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
PASSWORD_MIN_LENGTH = 12
# Argon2 hashes any length, but the strength estimate grows with it: a bound keeps it cheap.
PASSWORD_MAX_LENGTH = 256
# zxcvbn's scale: 0 (too guessable) .. 4 (very unguessable); 3 is "safely unguessable".
PASSWORD_MIN_SCORE = 3
WEB_SESSION_LIFETIME = dt.timedelta(hours=12)
_dummy_hash: str | None = None


def _dummy() -> str:
    """A hash to verify against when there is no account: the same work, the same time."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(24))
    return _dummy_hash


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


class WebSession(Base):
    """A web login. The cookie holds a random secret, the table its SHA-256; signing out ends the
    row, so that a copied cookie stops working at once (a signed cookie alone would not)."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    account: Mapped[Account] = relationship()


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


def password_problems(password: str, user_inputs: list[str] = ()) -> list[str]:
    """Why a password will not do; empty when it will."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return [f"Too short: at least {PASSWORD_MIN_LENGTH} characters."]
    if len(password) > PASSWORD_MAX_LENGTH:
        return [f"Too long: at most {PASSWORD_MAX_LENGTH} characters."]
    # zxcvbn's word lists take about 12 MB: loaded by the processes that check a password only,
    # not by every process that imports this module (an import's reader, a worker).
    from zxcvbn import zxcvbn
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    common = FREQUENCY_LISTS["passwords"]  # a list: searched once a password, rarely
    folded = password.lower()
    if folded in common or folded.strip("0123456789!?. ") in common:
        return ["A common password: attackers try these first."]
    estimate = zxcvbn(password, user_inputs=[text for text in user_inputs if text])
    if estimate["score"] < PASSWORD_MIN_SCORE:
        feedback = estimate["feedback"]
        hints = [feedback.get("warning") or "Too easy to guess.", *feedback.get("suggestions", [])]
        return [hint for hint in hints if hint]
    return []


def set_password(account: Account, password: str, user_inputs: list[str] = ()) -> None:
    problems = password_problems(password, [account.name, *user_inputs])
    if problems:
        raise InvalidData(
            f"This password will not do (at least {PASSWORD_MIN_LENGTH} characters, not a "
            "common password, not easy to guess).",
            errors={"password": problems},
        )
    account.password_hash = _hasher.hash(password)


def check_password(session: Session, name: str, password: str) -> Account:
    """The account if the password is right; Unauthenticated otherwise, saying nothing more.
    An unknown or disabled account costs the same Argon2 verification as a known one."""
    account = session.scalar(select(Account).where(Account.name == name))
    usable = account is not None and account.password_hash and account.disabled_at is None
    try:
        _hasher.verify(account.password_hash if usable else _dummy(), password[:1024])
        if not usable:
            raise VerificationError
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("Unknown account or wrong password.") from None
    return account


def start_session(session: Session, account: Account) -> str:
    """A new web session for the account; the secret (for the cookie) is returned once."""
    secret = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            account=account,
            secret_hash=_hash_token(secret),
            expires_at=utcnow() + WEB_SESSION_LIFETIME,
        )
    )
    session.flush()
    return secret


def session_account(session: Session, secret: str) -> Account | None:
    """The account of a live web session: not ended, not expired, account not disabled."""
    found = session.scalar(select(WebSession).where(WebSession.secret_hash == _hash_token(secret)))
    if found is None or found.ended_at is not None or _aware(found.expires_at) <= utcnow():
        return None
    if found.account.disabled_at is not None:
        return None
    return found.account


def end_session(session: Session, secret: str) -> None:
    found = session.scalar(select(WebSession).where(WebSession.secret_hash == _hash_token(secret)))
    if found is not None and found.ended_at is None:
        found.ended_at = utcnow()
        session.flush()


def end_sessions(session: Session, account: Account) -> int:
    """End every live web session of the account (a new password signs it out everywhere)."""
    live = session.scalars(
        select(WebSession).where(
            WebSession.account_id == account.id, WebSession.ended_at.is_(None)
        )
    ).all()
    for found in live:
        found.ended_at = utcnow()
    session.flush()
    return len(live)


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


def current_actor_of(session: Session, recorded: Actor) -> Actor:
    """The rights `recorded` (an actor saved with a queued job) has now: its token must still be
    active and its account enabled; role and scope are the account's current ones. The command
    line operator (no account) keeps its rights."""
    if recorded.token_id is not None:
        token = session.get(ApiToken, recorded.token_id)
        if token is None:
            raise Unauthenticated("The token that queued this job no longer exists.")
        state = token.state()
        if state != "active" or token.account.disabled_at is not None:
            raise Unauthenticated(
                f"The token that queued this job is {state if state != 'active' else 'disabled'}."
            )
        account = token.account
    elif recorded.account_id is not None:
        account = session.get(Account, recorded.account_id)
        if account is None or account.disabled_at is not None:
            raise Unauthenticated("The account that queued this job is disabled.")
    else:
        return recorded
    now = account.actor(recorded.token_id)
    return Actor(
        now.name, now.role, now.scopes, now.account_id, now.token_id, recorded.request_id
    )


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
