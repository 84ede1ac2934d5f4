"""Commercial cryptography (商用密码) service: SM2, SM3, SM4 for GB/T 39786-2021 level 3.

This is the only module in finserv that touches crypto libraries; everything else calls the
small interface below. It has no Plone imports.

* SM3, HMAC-SM3, SM4-GCM and PBKDF2-HMAC-SM3 come from ``cryptography`` (pyca, OpenSSL).
* SM2 comes from ``tongsuopy`` (pyca fork on Tongsuo/BabaSSL). Signing nonces come from the
  library's OpenSSL RNG, seeded from the OS CSPRNG. SM2 is behind the :class:`Signer` protocol
  and :func:`get_signer`, so production can register a signing server or HSM without callers
  changing.
* Keys never live in the ZODB. They come from environment variables or from a key directory
  (``FINSERV_KEY_DIR``, default ``var/keys`` under the working directory). Missing keys are
  generated there on first use as files with mode 0600.

Encrypted field token (format 1)::

    0x01 | key version (uint16, big endian) | nonce (12 bytes) | SM4-GCM ciphertext | tag (16)

The 3-byte header is authenticated together with the caller's AAD.
"""

from __future__ import annotations

import base64
import functools
import hmac as _std_hmac
import logging
import os
import re
import secrets
import struct
import threading
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _c_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from tongsuopy.crypto import exceptions as _ts_exceptions
from tongsuopy.crypto import hashes as _ts_hashes
from tongsuopy.crypto import serialization as _ts_serialization
from tongsuopy.crypto.asymciphers import ec as _ts_ec

__all__ = [
    "DEFAULT_SM2_ID",
    "PASSWORD_ITERATIONS",
    "SCHEME",
    "CryptoError",
    "Keyring",
    "Signer",
    "SoftwareSM2Signer",
    "blind_index",
    "build_aad",
    "decrypt",
    "encrypt",
    "get_keyring",
    "get_signer",
    "hash_password",
    "hmac_sm3",
    "normalise_for_index",
    "password_needs_rehash",
    "reencrypt",
    "register_signer",
    "reset_keyring",
    "rotate_sm4_key",
    "sm2_verify",
    "sm2_z_a",
    "sm3",
    "sm3_hex",
    "token_key_version",
    "verify_password",
]

logger = logging.getLogger(__name__)

TOKEN_FORMAT_V1 = 0x01
NONCE_SIZE = 12
TAG_SIZE = 16
SM4_KEY_SIZE = 16
HMAC_KEY_SIZE = 32
MAX_KEY_VERSION = 0xFFFF
_HEADER = struct.Struct(">BH")
_MIN_TOKEN_SIZE = _HEADER.size + NONCE_SIZE + TAG_SIZE

SCHEME = "PBKDF2-SM3"
PASSWORD_ITERATIONS = 600_000
PASSWORD_SALT_SIZE = 16
PASSWORD_HASH_SIZE = 32
_MAX_PASSWORD_ITERATIONS = 10 * PASSWORD_ITERATIONS  # refuse stored hashes built to stall us

DEFAULT_SM2_ID = b"1234567812345678"  # GM/T 0009 default user ID
_SIGNER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

MSG_TAMPERED = "密文已损坏或被篡改"


class CryptoError(ValueError):
    """The one error this module raises for bad ciphertext, bad keys or a bad key setup.

    Messages are in Chinese and safe to show; they never contain key material.
    """


# --- SM3 and HMAC-SM3 ------------------------------------------------------------------------


def sm3(data: bytes) -> bytes:
    """Return the 32-byte SM3 digest (GB/T 32905) of *data*."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_hex(data: bytes) -> str:
    """Return the SM3 digest of *data* as lowercase hex."""
    return sm3(data).hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """Return the 32-byte HMAC-SM3 of *data* under *key*."""
    mac = _c_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


# --- Key management --------------------------------------------------------------------------


def _parse_hex_key(value: str, size: int, source: str, *, exact: bool = True) -> bytes:
    """Decode a hex key from *source*; check its length. Never echoes the value."""
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        raise CryptoError(f"密钥格式错误（应为十六进制）：{source}") from None
    if (exact and len(key) != size) or len(key) < size:
        raise CryptoError(f"密钥长度错误（应为 {size} 字节）：{source}")
    return key


def _read_secret(path: Path) -> bytes:
    """Read a key file, warning if group or others may read it."""
    try:
        mode = path.stat().st_mode & 0o777
        content = path.read_bytes()
    except OSError as exc:
        raise CryptoError(f"无法读取密钥文件：{path}") from exc
    if mode & 0o077:
        logger.warning("密钥文件权限过宽（%o），应为 600：%s", mode, path)
    return content


def _create_secret_file(path: Path, content: bytes) -> bool:
    """Atomically create *path* (mode 0600) holding *content*.

    Returns False, leaving the file untouched, if it already exists (another process won).
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise CryptoError(f"无法写入密钥目录：{path.parent}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # fails if path exists: no half-written or overwritten keys
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _replace_file(path: Path, content: bytes) -> None:
    """Atomically replace *path* (mode 0600) with *content*."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Keyring:
    """All keys of one process, loaded lazily from the environment or the key directory.

    Sources, first match wins:

    * SM4 keys: ``<key dir>/sm4-<version>.key`` plus ``FINSERV_SM4_KEY_<version>`` (hex; wins
      for the same version); current version from ``FINSERV_SM4_KEY_CURRENT``, else ``<key dir>/current``, else the
      highest version.
    * HMAC key: ``FINSERV_HMAC_KEY`` (hex), else ``<key dir>/hmac.key``.
    * SM2 system key: ``FINSERV_SM2_PRIVATE_KEY_FILE`` (PEM path), else
      ``<key dir>/sm2-system.pem``; other signer names use ``<key dir>/sm2-<name>.pem``.

    A key found nowhere is generated into the key directory with mode 0600.
    """

    def __init__(self, key_dir: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ if environ is None else environ)
        chosen = key_dir or self._env.get("FINSERV_KEY_DIR") or "var/keys"
        self.key_dir = Path(chosen).absolute()
        self._lock = threading.RLock()
        self._sm4: dict[int, bytes] | None = None
        self._current: int = 0
        self._hmac: bytes | None = None

    # SM4 ------------------------------------------------------------------------------------

    def _load_sm4(self) -> None:
        keys: dict[int, bytes] = {}
        if self.key_dir.is_dir():
            for path in self.key_dir.glob("sm4-*.key"):
                match = re.fullmatch(r"sm4-(\d+)\.key", path.name)
                if match:
                    keys[int(match[1])] = _parse_hex_key(
                        _read_secret(path).decode("ascii", "replace"), SM4_KEY_SIZE, str(path)
                    )
        for name, value in self._env.items():
            match = re.fullmatch(r"FINSERV_SM4_KEY_(\d+)", name)
            if match:
                keys[int(match[1])] = _parse_hex_key(value, SM4_KEY_SIZE, name)
        if not keys:
            if _create_secret_file(self.key_dir / "sm4-1.key", secrets.token_hex(SM4_KEY_SIZE).encode()):
                _replace_file(self.key_dir / "current", b"1\n")
                logger.warning("已生成 SM4 数据密钥版本 1：%s", self.key_dir)
            return self._load_sm4()
        if bad := [v for v in keys if not 1 <= v <= MAX_KEY_VERSION]:
            raise CryptoError(f"密钥版本超出范围（1–{MAX_KEY_VERSION}）：{bad}")

        current_file = self.key_dir / "current"
        if "FINSERV_SM4_KEY_CURRENT" in self._env:
            raw, source = self._env["FINSERV_SM4_KEY_CURRENT"], "FINSERV_SM4_KEY_CURRENT"
        elif current_file.is_file():
            raw, source = current_file.read_text("ascii", "replace"), str(current_file)
        else:
            raw, source = str(max(keys)), "最高版本"
        try:
            current = int(raw.strip())
        except ValueError:
            raise CryptoError(f"当前密钥版本格式错误：{source}") from None
        if current not in keys:
            raise CryptoError(f"当前密钥版本 {current} 不存在：{source}")
        self._sm4, self._current = keys, current

    @property
    def current_sm4_version(self) -> int:
        """The SM4 key version new tokens are encrypted under."""
        with self._lock:
            if self._sm4 is None:
                self._load_sm4()
            return self._current

    @property
    def sm4_versions(self) -> list[int]:
        """All SM4 key versions this process can decrypt, ascending."""
        with self._lock:
            if self._sm4 is None:
                self._load_sm4()
            assert self._sm4 is not None
            return sorted(self._sm4)

    def sm4_key(self, version: int) -> bytes:
        """Return the SM4 key *version*; re-read the sources once if it is not known yet."""
        with self._lock:
            if self._sm4 is None or version not in self._sm4:
                self._load_sm4()  # another process may have rotated
            assert self._sm4 is not None
            if version not in self._sm4:
                raise CryptoError(f"未知的密钥版本：{version}")
            return self._sm4[version]

    def rotate_sm4(self) -> int:
        """Create a new SM4 key version in the key directory, make it current, return it."""
        if "FINSERV_SM4_KEY_CURRENT" in self._env:
            raise CryptoError("当前 SM4 密钥版本由环境变量 FINSERV_SM4_KEY_CURRENT 指定，请在密钥管理系统中轮换")
        with self._lock:
            version = max(self.sm4_versions) + 1
            key_hex = secrets.token_hex(SM4_KEY_SIZE).encode()
            while True:
                if version > MAX_KEY_VERSION:
                    raise CryptoError(f"密钥版本超出范围（1–{MAX_KEY_VERSION}）：{version}")
                if _create_secret_file(self.key_dir / f"sm4-{version}.key", key_hex):
                    break
                version += 1  # another process took this version number
            _replace_file(self.key_dir / "current", f"{version}\n".encode())
            self._load_sm4()
            logger.warning("SM4 数据密钥已轮换，当前版本 %s：%s", version, self.key_dir)
            return version

    # HMAC -----------------------------------------------------------------------------------

    @property
    def hmac_key(self) -> bytes:
        """The HMAC-SM3 master key (blind indexes); at least 16 bytes."""
        with self._lock:
            if self._hmac is None:
                if "FINSERV_HMAC_KEY" in self._env:
                    self._hmac = _parse_hex_key(self._env["FINSERV_HMAC_KEY"], 16, "FINSERV_HMAC_KEY", exact=False)
                else:
                    path = self.key_dir / "hmac.key"
                    if not path.exists() and _create_secret_file(path, secrets.token_hex(HMAC_KEY_SIZE).encode()):
                        logger.warning("已生成 HMAC-SM3 密钥：%s", path)
                    self._hmac = _parse_hex_key(
                        _read_secret(path).decode("ascii", "replace"), 16, str(path), exact=False
                    )
            return self._hmac

    # SM2 ------------------------------------------------------------------------------------

    def sm2_private_key_pem(self, name: str = "system") -> bytes:
        """Return the PEM private key of signer *name*, generating it in the key dir if absent."""
        if not _SIGNER_NAME.fullmatch(name):
            raise CryptoError(f"签名密钥名称不合法：{name!r}")
        with self._lock:
            if name == "system" and "FINSERV_SM2_PRIVATE_KEY_FILE" in self._env:
                path = Path(self._env["FINSERV_SM2_PRIVATE_KEY_FILE"])
                if not path.is_file():
                    raise CryptoError(f"SM2 私钥文件不存在：{path}")
                return _read_secret(path)
            path = self.key_dir / f"sm2-{name}.pem"
            if not path.exists() and _create_secret_file(path, SoftwareSM2Signer.generate().private_key_pem()):
                logger.warning("已生成 SM2 签名密钥 %s：%s", name, path)
            return _read_secret(path)


_keyring: Keyring | None = None
_keyring_dir: Path | None = None
_state_lock = threading.RLock()


def get_keyring() -> Keyring:
    """Return the process keyring, creating it from the environment on first use."""
    global _keyring
    with _state_lock:
        if _keyring is None:
            _keyring = Keyring(_keyring_dir)
        return _keyring


def reset_keyring(key_dir: str | os.PathLike[str] | None = None) -> None:
    """Forget all loaded keys and cached signers; the next use re-reads env and key dir.

    Tests call this after pointing ``FINSERV_KEY_DIR`` at a temp dir, or pass *key_dir*.
    """
    global _keyring, _keyring_dir
    with _state_lock:
        _keyring = None
        _keyring_dir = Path(key_dir) if key_dir is not None else None
        _signers.clear()


def rotate_sm4_key() -> int:
    """Create a new SM4 key version and make it current. Old versions stay for decryption."""
    return get_keyring().rotate_sm4()


# --- SM4-GCM field encryption ---------------------------------------------------------------


def build_aad(*parts: str | int) -> bytes:
    """Build unambiguous AAD from parts such as table, column and row ID (length-prefixed)."""
    out = bytearray()
    for part in parts:
        raw = str(part).encode("utf-8")
        out += struct.pack(">I", len(raw)) + raw
    return bytes(out)


def encrypt(plaintext: bytes, aad: bytes, key_version: int | None = None) -> bytes:
    """Encrypt *plaintext* with SM4-GCM under the current (or given) key version.

    A fresh random 12-byte nonce is used per call. *aad* binds the token to its context
    (e.g. ``build_aad("person", "id_number", uid)``) and must be given again to decrypt.
    """
    ring = get_keyring()
    version = ring.current_sm4_version if key_version is None else key_version
    key = ring.sm4_key(version)
    header = _HEADER.pack(TOKEN_FORMAT_V1, version)
    nonce = os.urandom(NONCE_SIZE)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header + aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return header + nonce + ciphertext + encryptor.tag


def token_key_version(token: bytes) -> int:
    """Return the SM4 key version recorded in *token* (raises CryptoError if malformed)."""
    if len(token) < _MIN_TOKEN_SIZE:
        raise CryptoError(f"{MSG_TAMPERED}（长度不足）")
    fmt, version = _HEADER.unpack_from(token)
    if fmt != TOKEN_FORMAT_V1:
        raise CryptoError(f"不支持的密文格式：0x{fmt:02x}")
    return version


def decrypt(token: bytes, aad: bytes) -> bytes:
    """Decrypt a token from :func:`encrypt`; the same *aad* must be given.

    Raises :class:`CryptoError` if the token is truncated, tampered with, bound to other AAD,
    or made with a key version this process does not have.
    """
    token = bytes(token)
    version = token_key_version(token)
    key = get_keyring().sm4_key(version)
    header, nonce = token[: _HEADER.size], token[_HEADER.size : _HEADER.size + NONCE_SIZE]
    ciphertext, tag = token[_HEADER.size + NONCE_SIZE : -TAG_SIZE], token[-TAG_SIZE:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(header + aad)
    try:
        return decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag:
        raise CryptoError(f"{MSG_TAMPERED}，或关联数据（AAD）不匹配") from None


def reencrypt(token: bytes, aad: bytes) -> bytes:
    """Decrypt *token* and encrypt it again under the current key version (fresh nonce)."""
    return encrypt(decrypt(token, aad), aad)


# --- Blind index ----------------------------------------------------------------------------


def normalise_for_index(value: str) -> str:
    """Normalise a value before indexing: NFKC (full-width → ASCII), strip, uppercase."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def blind_index(value: str, purpose: str) -> str:
    """Return a hex HMAC-SM3 blind index of *value* for equality search on encrypted fields.

    Each *purpose* (e.g. ``"person.id_number"``) gets its own derived key, so indexes of the
    same value for different purposes cannot be linked.
    """
    if not purpose:
        raise ValueError("blind_index 需要非空的 purpose")
    purpose_key = _purpose_key(get_keyring().hmac_key, purpose)
    return hmac_sm3(purpose_key, normalise_for_index(value).encode("utf-8")).hex()


@functools.lru_cache(maxsize=64)
def _purpose_key(hmac_key: bytes, purpose: str) -> bytes:
    """The blind-index key of one purpose (cached: bulk imports index many values)."""
    return hmac_sm3(hmac_key, b"finserv/blind-index/v1\x00" + purpose.encode("utf-8"))


# --- Passwords ------------------------------------------------------------------------------


def _pbkdf2_sm3(password: str, salt: bytes, iterations: int) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SM3(), length=PASSWORD_HASH_SIZE, salt=salt, iterations=iterations)
    return kdf.derive(password.encode("utf-8"))


def hash_password(password: str, iterations: int = PASSWORD_ITERATIONS) -> str:
    """Hash *password* as ``{PBKDF2-SM3}iterations$salt_b64$hash_b64`` with a random 16-byte salt."""
    if not password:
        raise ValueError("密码不能为空")
    salt = secrets.token_bytes(PASSWORD_SALT_SIZE)
    derived = _pbkdf2_sm3(password, salt, iterations)
    return f"{{{SCHEME}}}{iterations}${base64.b64encode(salt).decode()}${base64.b64encode(derived).decode()}"


def _parse_password_hash(encoded: str) -> tuple[int, bytes, bytes] | None:
    prefix = f"{{{SCHEME}}}"
    if not isinstance(encoded, str) or not encoded.startswith(prefix):
        return None
    try:
        iterations_s, salt_b64, hash_b64 = encoded[len(prefix) :].split("$")
        iterations = int(iterations_s)
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(hash_b64, validate=True)
    except ValueError:
        return None
    if not 1 <= iterations <= _MAX_PASSWORD_ITERATIONS or not salt or len(expected) != PASSWORD_HASH_SIZE:
        return None
    return iterations, salt, expected


def verify_password(password: str, encoded: str) -> bool:
    """Return True if *password* matches *encoded*; compares in constant time.

    A malformed or foreign-scheme *encoded* value returns False.
    """
    parsed = _parse_password_hash(encoded)
    if parsed is None or not password:
        return False
    iterations, salt, expected = parsed
    return _std_hmac.compare_digest(_pbkdf2_sm3(password, salt, iterations), expected)


def password_needs_rehash(encoded: str) -> bool:
    """Return True if *encoded* is malformed or uses fewer than :data:`PASSWORD_ITERATIONS`."""
    parsed = _parse_password_hash(encoded)
    return parsed is None or parsed[0] < PASSWORD_ITERATIONS


# --- SM2 signatures -------------------------------------------------------------------------

# GM/T 0003.5 recommended curve parameters, needed to compute Z_A.
_SM2_A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
_SM2_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
_SM2_GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
_SM2_GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0


@runtime_checkable
class Signer(Protocol):
    """What callers need from an SM2 signer; a signing server or HSM adapter implements this.

    Signatures are DER ``SEQUENCE { r INTEGER, s INTEGER }`` over SM3(Z_A ‖ data) with the
    GM/T 0009 default ID, as GM/T 0009 and signing servers (GM/T 0029) use.
    """

    def sign(self, data: bytes) -> bytes:
        """Return an SM2 signature of *data*."""
        ...

    def verify(self, data: bytes, signature: bytes) -> bool:
        """Return True if *signature* is a valid signature of *data* by this signer's key."""
        ...

    def public_key_pem(self) -> bytes:
        """Return the signer's public key as PEM (SubjectPublicKeyInfo)."""
        ...


def _load_public_key(public_key_pem: bytes) -> _ts_ec.EllipticCurvePublicKey:
    try:
        key = _ts_serialization.load_pem_public_key(public_key_pem)
    except (ValueError, TypeError, _ts_exceptions.UnsupportedAlgorithm, _ts_exceptions.InternalError):
        raise CryptoError("SM2 公钥格式错误") from None
    if not isinstance(key, _ts_ec.EllipticCurvePublicKey) or key.curve.name != "SM2":
        raise CryptoError("不是 SM2 公钥")
    return key


def sm2_verify(public_key_pem: bytes, data: bytes, signature: bytes) -> bool:
    """Verify a DER SM2 signature (default ID) of *data* under a PEM public key.

    Returns False for a wrong or malformed signature; raises CryptoError for a bad key.
    """
    return _verify_with_key(_load_public_key(public_key_pem), data, signature)


def _verify_with_key(key: _ts_ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, data, _ts_ec.ECDSA(_ts_hashes.SM3()))
    except (_ts_exceptions.InvalidSignature, _ts_exceptions.InternalError, ValueError, TypeError):
        return False  # tongsuopy raises InternalError, not InvalidSignature, on garbage input
    return True


def sm2_z_a(public_key_pem: bytes, user_id: bytes = DEFAULT_SM2_ID) -> bytes:
    """Return Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GM/T 0003.2 §5.5).

    The value signed is SM3(Z_A ‖ M). Needed to audit signatures and to feed signing
    servers that take a digest.
    """
    numbers = _load_public_key(public_key_pem).public_numbers()
    fields = (_SM2_A, _SM2_B, _SM2_GX, _SM2_GY, numbers.x, numbers.y)
    entl = struct.pack(">H", len(user_id) * 8)
    return sm3(entl + user_id + b"".join(n.to_bytes(32, "big") for n in fields))


class SoftwareSM2Signer:
    """SM2 signer with the private key in process memory (tongsuopy).

    For development and for system-integrity signatures. A level-3 production deployment
    should register a signing-server/HSM :class:`Signer` under the same name instead.
    """

    def __init__(self, private_key: _ts_ec.EllipticCurvePrivateKey) -> None:
        if private_key.curve.name != "SM2":
            raise CryptoError("不是 SM2 私钥")
        self._key = private_key

    @classmethod
    def generate(cls) -> SoftwareSM2Signer:
        """Generate a new SM2 key pair from the OS CSPRNG."""
        return cls(_ts_ec.generate_private_key(_ts_ec.SM2()))

    @classmethod
    def from_pem(cls, private_key_pem: bytes, password: bytes | None = None) -> SoftwareSM2Signer:
        """Load a PEM (PKCS#8 or SEC1) SM2 private key."""
        try:
            key = _ts_serialization.load_pem_private_key(private_key_pem, password)
        except (ValueError, TypeError, _ts_exceptions.UnsupportedAlgorithm, _ts_exceptions.InternalError):
            raise CryptoError("SM2 私钥格式错误或口令不正确") from None
        if not isinstance(key, _ts_ec.EllipticCurvePrivateKey):
            raise CryptoError("不是 SM2 私钥")
        return cls(key)

    def private_key_pem(self) -> bytes:
        """Export the private key as unencrypted PKCS#8 PEM (store it with mode 0600)."""
        return self._key.private_bytes(
            _ts_serialization.Encoding.PEM,
            _ts_serialization.PrivateFormat.PKCS8,
            _ts_serialization.NoEncryption(),
        )

    def public_key_pem(self) -> bytes:
        """Export the public key as SubjectPublicKeyInfo PEM."""
        return self._key.public_key().public_bytes(
            _ts_serialization.Encoding.PEM, _ts_serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, data: bytes) -> bytes:
        """Sign *data*: DER signature over SM3(Z_A ‖ data), default ID, random nonce."""
        return self._key.sign(data, _ts_ec.ECDSA(_ts_hashes.SM3()))

    def verify(self, data: bytes, signature: bytes) -> bool:
        """Return True if *signature* is valid for *data* under this key."""
        return _verify_with_key(self._key.public_key(), data, signature)


SignerFactory = Callable[[], Signer]
_signer_factories: dict[str, SignerFactory] = {}
_signers: dict[str, Signer] = {}


def register_signer(name: str, factory: SignerFactory | None) -> None:
    """Register a factory for signer *name* (e.g. an HSM adapter); None restores the default."""
    with _state_lock:
        if factory is None:
            _signer_factories.pop(name, None)
        else:
            _signer_factories[name] = factory
        _signers.pop(name, None)


def get_signer(name: str = "system") -> Signer:
    """Return the signer registered as *name*; by default a software SM2 signer whose key
    comes from the keyring (``sm2-<name>.pem``). The instance is cached per process."""
    with _state_lock:
        if name not in _signers:
            factory = _signer_factories.get(name)
            if factory is not None:
                _signers[name] = factory()
            else:
                _signers[name] = SoftwareSM2Signer.from_pem(get_keyring().sm2_private_key_pem(name))
        return _signers[name]
