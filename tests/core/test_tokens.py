"""core/tokens: signed static QR tokens and rotating check-in codes."""

from finserv.core import crypto
from finserv.core import tokens
from zope.i18n import translate

import pytest
import subprocess
import shutil


@pytest.fixture(autouse=True)
def keys(fresh_keys):
    return fresh_keys


def test_static_token_verifies_offline_with_the_public_key():
    token = tokens.issue_static("badge", "reg-123", version=2)
    public = crypto.get_signer("system").public_key_pem()
    claim = tokens.verify_static(token, "badge", public_key_pem=public)
    assert (claim.subject, claim.version) == ("reg-123", 2)


def test_static_token_with_a_changed_subject_is_refused():
    token = tokens.issue_static("badge", "reg-123")
    prefix, body, sig = token.split(".")
    forged_body = tokens._b64(tokens._unb64(body).replace(b"reg-123", b"reg-124"))
    with pytest.raises(tokens.TokenError) as info:
        tokens.verify_static(f"{prefix}.{forged_body}.{sig}", "badge")
    assert info.value.reason == "bad_signature"
    assert "签名无效" in translate(info.value.message, target_language="zh_CN")


def test_static_token_signed_by_another_key_is_refused():
    other = crypto.SoftwareSM2Signer.generate()
    token = tokens.issue_static("badge", "reg-1", signer=other)
    with pytest.raises(tokens.TokenError) as info:
        tokens.verify_static(token, "badge")
    assert info.value.reason == "bad_signature"


def test_expired_and_wrong_kind_tokens_are_refused():
    token = tokens.issue_static("badge", "reg-1", expires=1000)
    with pytest.raises(tokens.TokenError) as info:
        tokens.verify_static(token, "badge", now=1001)
    assert info.value.reason == "expired"
    with pytest.raises(tokens.TokenError) as info:
        tokens.verify_static(tokens.issue_static("certificate", "c-1"), "badge")
    assert info.value.reason == "wrong_kind"


@pytest.mark.parametrize("garbage", ["", "hello", "FS1.!!.??", "FS1.e30.", "FR1.a.b.c"])
def test_garbage_is_refused_as_unreadable(garbage):
    with pytest.raises(tokens.TokenError) as info:
        tokens.verify_static(garbage, "badge")
    assert info.value.reason in ("malformed", "bad_signature")


def test_rotating_code_is_accepted_once_per_step():
    secret = tokens.new_secret()
    now = 1_700_000_000.0
    last = {}
    code = tokens.rotating_code("reg-9", secret, now=now)
    assert tokens.accept_rotating(code, secret, last, now=now) == "reg-9"
    with pytest.raises(tokens.TokenError) as info:
        tokens.accept_rotating(code, secret, last, now=now + 5)
    assert info.value.reason == "replayed"
    assert "截图" in translate(info.value.message, target_language="zh_CN")


def test_rotating_code_from_a_screenshot_expires_after_one_step():
    secret = tokens.new_secret()
    now = 1_700_000_000.0
    code = tokens.rotating_code("reg-9", secret, now=now)
    assert tokens.accept_rotating(code, secret, {}, now=now + 30) == "reg-9"  # one step late: still fine
    with pytest.raises(tokens.TokenError) as info:
        tokens.accept_rotating(code, secret, {}, now=now + 61)
    assert info.value.reason == "stale"


def test_an_older_step_than_the_last_accepted_is_refused():
    secret = tokens.new_secret()
    now = 1_700_000_000.0
    old = tokens.rotating_code("reg-9", secret, now=now - 30)
    new = tokens.rotating_code("reg-9", secret, now=now)
    last = {}
    tokens.accept_rotating(new, secret, last, now=now)
    with pytest.raises(tokens.TokenError) as info:
        tokens.accept_rotating(old, secret, last, now=now)
    assert info.value.reason == "replayed"


def test_rotating_code_with_another_secret_or_subject_is_refused():
    secret = tokens.new_secret()
    code = tokens.rotating_code("reg-9", secret, now=1_700_000_000.0)
    with pytest.raises(tokens.TokenError) as info:
        tokens.accept_rotating(code, tokens.new_secret(), {}, now=1_700_000_000.0)
    assert info.value.reason == "bad_mac"
    prefix, _subject, step, mac = code.split(".")
    forged = f"{prefix}.{tokens._b64(b'reg-10')}.{step}.{mac}"
    with pytest.raises(tokens.TokenError):
        tokens.accept_rotating(forged, secret, {}, now=1_700_000_000.0)


def test_countdown_and_steps():
    assert tokens.current_step(60.0) == 2
    assert tokens.seconds_left(61.0) == 29


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg (zbar-tools) not installed")
def test_qr_code_scans_back_to_the_token(tmp_path):
    token = tokens.issue_static("badge", "reg-123")
    path = tmp_path / "qr.png"
    path.write_bytes(tokens.qr_png(token))
    out = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True).stdout.strip()
    assert out == token
    assert tokens.qr_svg(token).startswith("<svg")


def test_two_gates_scanning_the_same_code_at_once_accept_it_once():
    """Both gates accept in their own transaction; the second commit conflicts, and the retry
    (what Zope does with a ConflictError) sees the step already used."""
    import transaction
    from BTrees.OOBTree import OOBTree
    from ZODB import DB
    from ZODB.POSException import ConflictError

    db = DB(None)
    tm1, tm2 = transaction.TransactionManager(), transaction.TransactionManager()
    c1, c2 = db.open(transaction_manager=tm1), db.open(transaction_manager=tm2)
    c1.root()["last"] = OOBTree()
    tm1.commit()
    c2.sync()
    secret, now = tokens.new_secret(), 1_700_000_000.0
    code = tokens.rotating_code("reg-7", secret, now=now)
    assert tokens.accept_rotating(code, secret, c1.root()["last"], now=now) == "reg-7"
    assert tokens.accept_rotating(code, secret, c2.root()["last"], now=now) == "reg-7"
    tm1.commit()
    with pytest.raises(ConflictError):
        tm2.commit()
    tm2.abort()
    with pytest.raises(tokens.TokenError) as info:  # the retry
        tokens.accept_rotating(code, secret, c2.root()["last"], now=now)
    assert info.value.reason == "replayed"
    db.close()


def test_static_token_fits_a_small_qr_code():
    import segno

    token = tokens.issue_static("badge", "3f2a9c1e7b6d4a10", version=3)
    assert len(token) < 200
    assert segno.make(token, error="m", micro=False).version <= 10
