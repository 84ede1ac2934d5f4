"""Tests for finserv.core.crypto (GB/T 39786-2021 level 3, commercial cryptography).

Each test is named after the requirement it proves. Standard vectors come from
GB/T 32905 (SM3), GB/T 32907 (SM4), RFC 8998 A.1 (SM4-GCM) and GM/T 0003.5 (SM2).
No Plone fixture: every test gets an empty temporary key directory and no FINSERV_* variables.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    from finserv.core import crypto
except ImportError:  # package not installed in the venv: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from finserv.core import crypto

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from tongsuopy.crypto import serialization as ts_serialization
from tongsuopy.crypto.asymciphers import ec as ts_ec

AAD = crypto.build_aad("person", "id_number", "uid-42")
ID_NUMBER = b"31010119900307123X"

# GM/T 0003.5 (GB/T 32918.5) Annex A, recommended curve, message "message digest".
SM2_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
SM2_PX = 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
SM2_PY = 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13
SM2_ZA = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
SM2_E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
SM2_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
SM2_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA


@pytest.fixture(autouse=True)
def key_dir(tmp_path, monkeypatch) -> Iterator[Path]:
    """An empty key directory outside the database, and no key material from the environment."""
    for name in list(os.environ):
        if name.startswith("FINSERV_"):
            monkeypatch.delenv(name)
    directory = tmp_path / "keys"
    monkeypatch.setenv("FINSERV_KEY_DIR", str(directory))
    crypto.reset_keyring()
    yield directory
    crypto.reset_keyring()


def standard_sm2_public_key_pem() -> bytes:
    key = ts_ec.derive_private_key(SM2_D, ts_ec.SM2()).public_key()
    return key.public_bytes(ts_serialization.Encoding.PEM, ts_serialization.PublicFormat.SubjectPublicKeyInfo)


# --- 1. SM3 / HMAC-SM3 / SM4 standard vectors ------------------------------------------------


def test_sm3_gbt32905_example_1_abc():
    assert crypto.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert crypto.sm3(b"abc") == bytes.fromhex(crypto.sm3_hex(b"abc"))


def test_sm3_gbt32905_example_2_512_bit_message():
    assert crypto.sm3_hex(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_hmac_sm3_equals_python_stdlib_hmac():
    for key, msg in [(b"k" * 16, b"abc"), (b"\x00" * 100, b"abcd" * 100), (b"", b"")]:
        assert crypto.hmac_sm3(key, msg) == hmac.new(key, msg, "sm3").digest()


def test_sm4_gbt32907_single_block_example():
    # ECB appears ONLY here, to check the bare block cipher against the standard.
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (encryptor.update(key) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gcm_rfc8998_a1_known_answer():
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    iv = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    ciphertext = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    tag = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")

    encryptor = Cipher(algorithms.SM4(key), modes.GCM(iv)).encryptor()
    encryptor.authenticate_additional_data(aad)
    assert encryptor.update(plaintext) + encryptor.finalize() == ciphertext
    assert encryptor.tag == tag

    decryptor = Cipher(algorithms.SM4(key), modes.GCM(iv, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    assert decryptor.update(ciphertext) + decryptor.finalize() == plaintext


# --- 2. SM2 ----------------------------------------------------------------------------------


def test_sm2_gmt0003_example_signature_verifies():
    public_pem = standard_sm2_public_key_pem()
    numbers = ts_serialization.load_pem_public_key(public_pem).public_numbers()
    assert (numbers.x, numbers.y) == (SM2_PX, SM2_PY)  # public key derived from d matches Annex A
    signature = encode_dss_signature(SM2_R, SM2_S)  # DER SEQUENCE { r, s }
    assert crypto.sm2_verify(public_pem, b"message digest", signature)


def test_sm2_z_a_uses_gmt0009_default_id():
    public_pem = standard_sm2_public_key_pem()
    assert crypto.DEFAULT_SM2_ID == b"1234567812345678"
    z_a = crypto.sm2_z_a(public_pem)
    assert z_a.hex() == SM2_ZA
    assert crypto.sm3(z_a + b"message digest").hex() == SM2_E  # the value r, s are computed over
    assert crypto.sm2_z_a(public_pem, b"ALICE123@YAHOO.COM").hex() != SM2_ZA


def test_sm2_two_signatures_of_same_message_differ_random_nonce():
    signer = crypto.SoftwareSM2Signer.generate()
    first, second = signer.sign(b"approval #1"), signer.sign(b"approval #1")
    assert first != second
    assert signer.verify(b"approval #1", first) and signer.verify(b"approval #1", second)


def test_sm2_tampered_message_or_signature_fails_verification():
    signer = crypto.SoftwareSM2Signer.generate()
    signature = signer.sign(b"amount=1000")
    assert signer.verify(b"amount=1000", signature)
    assert not signer.verify(b"amount=9000", signature)
    assert not signer.verify(b"amount=1000", signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not signer.verify(b"amount=1000", b"not a signature")  # library error becomes False
    assert not crypto.SoftwareSM2Signer.generate().verify(b"amount=1000", signature)  # other key


def test_sm2_keys_pem_export_and_import():
    signer = crypto.SoftwareSM2Signer.generate()
    private_pem, public_pem = signer.private_key_pem(), signer.public_key_pem()
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    reloaded = crypto.SoftwareSM2Signer.from_pem(private_pem)
    assert reloaded.public_key_pem() == public_pem
    assert crypto.sm2_verify(public_pem, b"data", reloaded.sign(b"data"))
    with pytest.raises(crypto.CryptoError):
        crypto.SoftwareSM2Signer.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_get_signer_is_swappable_for_hsm_without_changing_callers(key_dir):
    system = crypto.get_signer()
    assert isinstance(system, crypto.Signer) and isinstance(system, crypto.SoftwareSM2Signer)
    assert crypto.get_signer("system") is system
    assert system.verify(b"x", system.sign(b"x"))

    class FakeSigningServer:  # stands in for a GM/T 0029 signing server adapter
        def __init__(self) -> None:
            self._inner = crypto.SoftwareSM2Signer.generate()

        def sign(self, data: bytes) -> bytes:
            return self._inner.sign(data)

        def verify(self, data: bytes, signature: bytes) -> bool:
            return self._inner.verify(data, signature)

        def public_key_pem(self) -> bytes:
            return self._inner.public_key_pem()

    crypto.register_signer("system", FakeSigningServer)
    try:
        swapped = crypto.get_signer()
        assert isinstance(swapped, FakeSigningServer) and isinstance(swapped, crypto.Signer)
        assert crypto.sm2_verify(swapped.public_key_pem(), b"x", swapped.sign(b"x"))
    finally:
        crypto.register_signer("system", None)
    assert crypto.get_signer().public_key_pem() == system.public_key_pem()  # key file reused


# --- 1. SM4-GCM field encryption ------------------------------------------------------------


def test_sm4_gcm_round_trip_with_fresh_nonce_and_versioned_token():
    first, second = crypto.encrypt(ID_NUMBER, AAD), crypto.encrypt(ID_NUMBER, AAD)
    assert crypto.decrypt(first, AAD) == ID_NUMBER == crypto.decrypt(second, AAD)
    assert first != second and first[3:15] != second[3:15]  # fresh 12-byte nonce each time
    assert first[0] == crypto.TOKEN_FORMAT_V1
    assert crypto.token_key_version(first) == 1
    assert len(first) == 3 + 12 + len(ID_NUMBER) + 16
    assert crypto.decrypt(crypto.encrypt(b"", AAD), AAD) == b""


def test_sm4_gcm_wrong_aad_rejected():
    token = crypto.encrypt(ID_NUMBER, AAD)
    with pytest.raises(crypto.CryptoError, match="密文已损坏或被篡改"):
        crypto.decrypt(token, crypto.build_aad("person", "id_number", "uid-43"))


@pytest.mark.parametrize("keep", [0, 1, 3, 15, 30, -1])
def test_sm4_gcm_truncated_token_raises_crypto_error(keep):
    token = crypto.encrypt(ID_NUMBER, AAD)
    with pytest.raises(crypto.CryptoError, match="密文已损坏或被篡改") as info:
        crypto.decrypt(token[:keep], AAD)
    assert isinstance(info.value, ValueError)
    error = info.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)  # no library traceback


def test_sm4_gcm_tampered_byte_raises_crypto_error():
    token = crypto.encrypt(ID_NUMBER, AAD)
    for position in range(len(token)):
        tampered = bytearray(token)
        tampered[position] ^= 0x01
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt(bytes(tampered), AAD)


def test_unknown_key_version_raises_crypto_error():
    token = crypto.encrypt(ID_NUMBER, AAD)
    foreign = token[:1] + (999).to_bytes(2, "big") + token[3:]
    with pytest.raises(crypto.CryptoError, match="未知的密钥版本"):
        crypto.decrypt(foreign, AAD)
    with pytest.raises(crypto.CryptoError, match="未知的密钥版本"):
        crypto.encrypt(ID_NUMBER, AAD, key_version=999)


# --- 3. Key management ----------------------------------------------------------------------


def test_key_rotation_old_tokens_still_decrypt(key_dir):
    old = crypto.encrypt(ID_NUMBER, AAD)
    assert crypto.rotate_sm4_key() == 2
    new = crypto.encrypt(ID_NUMBER, AAD)
    assert crypto.token_key_version(old) == 1 and crypto.token_key_version(new) == 2
    assert crypto.decrypt(old, AAD) == ID_NUMBER == crypto.decrypt(new, AAD)
    crypto.reset_keyring()  # a restarted process reads the same state from the key dir
    assert crypto.get_keyring().current_sm4_version == 2
    assert crypto.decrypt(old, AAD) == ID_NUMBER


def test_reencrypt_moves_token_to_current_key_version():
    old = crypto.encrypt(ID_NUMBER, AAD)
    crypto.rotate_sm4_key()
    moved = crypto.reencrypt(old, AAD)
    assert crypto.token_key_version(moved) == 2
    assert crypto.decrypt(moved, AAD) == ID_NUMBER
    with pytest.raises(crypto.CryptoError):
        crypto.reencrypt(old, b"other aad")


def test_keys_are_files_with_mode_0600_outside_the_database(key_dir):
    token = crypto.encrypt(ID_NUMBER, AAD)
    crypto.blind_index("x", "test")
    crypto.get_signer().sign(b"x")
    crypto.rotate_sm4_key()

    assert crypto.get_keyring().key_dir == key_dir
    names = sorted(path.name for path in key_dir.iterdir())
    assert names == ["current", "hmac.key", "sm2-system.pem", "sm4-1.key", "sm4-2.key"]
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    for path in key_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    sm4_key = bytes.fromhex((key_dir / "sm4-1.key").read_text())
    assert len(sm4_key) == 16 and sm4_key not in token  # the token carries only the version


def test_keys_from_environment_variables_are_used_and_not_written(key_dir, tmp_path, monkeypatch):
    pem_file = tmp_path / "hsm-export.pem"
    pem_file.write_bytes(crypto.SoftwareSM2Signer.generate().private_key_pem())
    monkeypatch.setenv("FINSERV_SM4_KEY_7", "00112233445566778899aabbccddeeff")
    monkeypatch.setenv("FINSERV_SM4_KEY_CURRENT", "7")
    monkeypatch.setenv("FINSERV_HMAC_KEY", "ab" * 32)
    monkeypatch.setenv("FINSERV_SM2_PRIVATE_KEY_FILE", str(pem_file))
    crypto.reset_keyring()

    token = crypto.encrypt(ID_NUMBER, AAD)
    assert crypto.token_key_version(token) == 7
    assert crypto.decrypt(token, AAD) == ID_NUMBER
    assert crypto.get_keyring().hmac_key == bytes.fromhex("ab" * 32)
    assert crypto.get_signer().private_key_pem() == pem_file.read_bytes()
    assert not key_dir.exists()  # nothing generated
    with pytest.raises(crypto.CryptoError, match="环境变量"):
        crypto.rotate_sm4_key()

    monkeypatch.setenv("FINSERV_SM4_KEY_7", "not-hex")
    crypto.reset_keyring()
    with pytest.raises(crypto.CryptoError, match="密钥格式错误"):
        crypto.encrypt(ID_NUMBER, AAD)


# --- 4. Blind index -------------------------------------------------------------------------


def test_blind_index_is_stable_and_normalised():
    index = crypto.blind_index("31010119900307123X", "person.id_number")
    assert len(index) == 64 and int(index, 16) >= 0
    assert crypto.blind_index("  31010119900307123x ", "person.id_number") == index
    assert crypto.blind_index("３１０１０１１９９００３０７１２３Ｘ", "person.id_number") == index  # full-width
    crypto.reset_keyring()  # same key file → same index after restart
    assert crypto.blind_index("31010119900307123X", "person.id_number") == index
    assert crypto.blind_index("310101199003071234", "person.id_number") != index


def test_blind_index_is_purpose_separated():
    value = "13800138000"
    assert crypto.blind_index(value, "person.phone") != crypto.blind_index(value, "contact.phone")
    assert (
        crypto.blind_index(value, "person.phone")
        != crypto.hmac_sm3(crypto.get_keyring().hmac_key, value.encode()).hex()
    )
    with pytest.raises(ValueError):
        crypto.blind_index(value, "")


# --- 5. Passwords ---------------------------------------------------------------------------


def test_password_hash_verifies_correct_and_rejects_wrong_password():
    encoded = crypto.hash_password("正确的密码 Pa55!")
    assert crypto.verify_password("正确的密码 Pa55!", encoded)
    assert not crypto.verify_password("正确的密码 Pa55?", encoded)
    assert not crypto.verify_password("正确的密码 Pa55!", "{SSHA}abc")
    assert not crypto.verify_password("正确的密码 Pa55!", encoded.replace("$", "$x", 1))


def test_password_hash_is_pbkdf2_hmac_sm3_with_600000_iterations():
    encoded = crypto.hash_password("secret")
    assert crypto.SCHEME == "PBKDF2-SM3" and crypto.PASSWORD_ITERATIONS >= 600_000
    prefix, salt_b64, hash_b64 = encoded.split("$")
    assert prefix == f"{{PBKDF2-SM3}}{crypto.PASSWORD_ITERATIONS}"
    salt, derived = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
    assert len(salt) == 16
    # independent implementation: Python's hashlib PBKDF2 over HMAC-SM3
    assert derived == hashlib.pbkdf2_hmac("sm3", b"secret", salt, crypto.PASSWORD_ITERATIONS, len(derived))
    assert not crypto.password_needs_rehash(encoded)
    assert crypto.password_needs_rehash(crypto.hash_password("secret", iterations=1000))


def test_password_salt_differs_per_hash():
    first, second = crypto.hash_password("same password"), crypto.hash_password("same password")
    assert first != second
    assert first.split("$")[1] != second.split("$")[1]
