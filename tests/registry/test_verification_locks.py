"""Verifying a file takes seconds of CPU at worst; on SQLite it must not hold the one write
lock meanwhile (an outside trial saw a 590 KB credential hold every write for minutes)."""

from __future__ import annotations

import io

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from importers.verification import stored
from registry.app import create_app
from registry.core import accounts
from registry.core.db import make_engine
from registry.migrations import upgrade


def test_a_verification_is_made_while_other_requests_may_write(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    upgrade(url)
    engine = make_engine(url, busy_timeout=0.2)
    with Session(engine) as session:
        account = accounts.get_or_create_account(session, "anna", "registrar", [])
        _, secret = accounts.create_token(session, account)
        session.commit()
    app = create_app({"DATABASE_URL": url, "TRUST_LIST": tmp_path / "trust"})
    written = []
    examine = stored.examine

    def examine_while_another_writes(*args, **kwargs):
        # Another connection writes while the file is verified: with the request's write
        # transaction still open it would wait for the lock and fail after 0.2 s.
        try:
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE IF NOT EXISTS elsewhere (x INTEGER)"))
                connection.execute(text("INSERT INTO elsewhere VALUES (1)"))
            written.append("written")
        except OperationalError as error:
            written.append(str(error.orig))
        return examine(*args, **kwargs)

    monkeypatch.setattr(stored, "examine", examine_while_another_writes)
    response = app.test_client().post(
        "/api/v1/verifications",
        data={"file": (io.BytesIO(b'{"type": ["VerifiableCredential"]}'), "c.json")},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["verdict"] == "unsigned"
    assert written == ["written"]
    engine.dispose()
