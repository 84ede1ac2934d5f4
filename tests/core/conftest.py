from finserv.core import crypto

import os
import pytest


@pytest.fixture
def fresh_keys(tmp_path, monkeypatch):
    """An empty key directory and audit checkpoints file, outside the database, for one test."""
    for name in list(os.environ):
        if name.startswith("FINSERV_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FINSERV_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("FINSERV_AUDIT_CHECKPOINTS", str(tmp_path / "audit-checkpoints.jsonl"))
    crypto.reset_keyring()
    yield tmp_path
    crypto.reset_keyring()
