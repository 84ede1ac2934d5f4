"""Benchmark finserv.core.crypto against the pure-Python ``gmssl`` baseline; prints markdown.

Run:  .venv/bin/python benchmarks/crypto_bench.py [--seconds 1.0]

The ``gmssl`` baseline is never installed in the project venv. To include it, install it into a
throwaway venv with the same Python and pass its site-packages (appended to sys.path, so the
project's own packages still win):

    python3.11 -m venv /tmp/gmssl-venv && /tmp/gmssl-venv/bin/pip install gmssl
    .venv/bin/python benchmarks/crypto_bench.py --baseline-site /tmp/gmssl-venv/lib/python3.11/site-packages

Each metric loops for ``--seconds`` after one warm-up call, single-threaded; MB = 10^6 bytes.
A "field" is an 18-byte ID-number-like value with a fresh random nonce/IV per call.
Keys go to a temporary directory, never to var/keys.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

try:
    from finserv.core import crypto
except ImportError:  # package not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from finserv.core import crypto

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

FIELD = b"31010119900307123X"
MSG64 = bytes(range(64))
SM2_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of *fn*, after one warm-up call."""
    fn()
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def mbps(fn: Callable[[], object], size: int, seconds: float) -> float:
    return rate(fn, seconds) * size / 1e6


def fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def ours(seconds: float) -> dict[str, float]:
    bulk = os.urandom(1 << 20)
    key = os.urandom(16)
    aad = crypto.build_aad("person", "id_number", "uid-42")
    token = crypto.encrypt(FIELD, aad)
    signer = crypto.get_signer()
    public_pem = signer.public_key_pem()
    signature = signer.sign(MSG64)

    def gcm_bulk() -> bytes:
        enc = Cipher(algorithms.SM4(key), modes.GCM(os.urandom(12))).encryptor()
        return enc.update(bulk) + enc.finalize() + enc.tag

    start = time.perf_counter()
    crypto.hash_password("correct horse battery staple")
    pbkdf2_ms = (time.perf_counter() - start) * 1000

    return {
        "sm3_mbps": mbps(lambda: crypto.sm3(bulk), len(bulk), seconds),
        "sm3_ops": rate(lambda: crypto.sm3(MSG64), seconds),
        "hmac_ops": rate(lambda: crypto.hmac_sm3(key, MSG64), seconds),
        "sm4_mbps": mbps(gcm_bulk, len(bulk), seconds),
        "field_enc": rate(lambda: crypto.encrypt(FIELD, aad), seconds),
        "field_dec": rate(lambda: crypto.decrypt(token, aad), seconds),
        "blind": rate(lambda: crypto.blind_index("31010119900307123X", "person.id_number"), seconds),
        "sm2_sign": rate(lambda: signer.sign(MSG64), seconds),
        "sm2_verify": rate(lambda: crypto.sm2_verify(public_pem, MSG64, signature), seconds),
        "sm2_verify_obj": rate(lambda: signer.verify(MSG64, signature), seconds),
        "pbkdf2_ms": pbkdf2_ms,
    }


def baseline(seconds: float) -> dict[str, float | None] | None:
    """Measure gmssl (pure Python); None if it is not importable."""
    try:
        from gmssl import func, sm2, sm3, sm4
    except ImportError:
        return None
    bulk = os.urandom(16 * 1024)  # pure Python: 16 KiB keeps each call short
    key = os.urandom(16)
    signer = crypto.SoftwareSM2Signer.generate()
    numbers = signer._key.private_numbers()
    public_hex = f"{numbers.public_numbers.x:064x}{numbers.public_numbers.y:064x}"
    gm = sm2.CryptSM2(private_key=f"{numbers.private_value:064x}", public_key=public_hex)

    def random_k() -> str:  # gmssl's default k uses random.choice (Mersenne Twister): never use it
        return f"{secrets.randbelow(SM2_N - 1) + 1:064x}"

    signature = gm.sign_with_sm3(MSG64, random_k())
    assert gm.verify_with_sm3(signature, MSG64)

    def cbc_bulk() -> bytes:
        cipher = sm4.CryptSM4()
        cipher.set_key(key, sm4.SM4_ENCRYPT)
        return cipher.crypt_cbc(os.urandom(16), bulk)

    def cbc_field() -> bytes:
        cipher = sm4.CryptSM4()
        cipher.set_key(key, sm4.SM4_ENCRYPT)
        return cipher.crypt_cbc(os.urandom(16), FIELD)

    return {
        "sm3_mbps": mbps(lambda: sm3.sm3_hash(func.bytes_to_list(bulk)), len(bulk), seconds),
        "sm3_ops": rate(lambda: sm3.sm3_hash(func.bytes_to_list(MSG64)), seconds),
        "hmac_ops": None,
        "sm4_mbps": mbps(cbc_bulk, len(bulk), seconds),
        "field_enc": rate(cbc_field, seconds),
        "field_dec": None,
        "blind": None,
        "sm2_sign": rate(lambda: gm.sign_with_sm3(MSG64, random_k()), seconds),
        "sm2_verify": rate(lambda: gm.verify_with_sm3(signature, MSG64), seconds),
        "sm2_verify_obj": None,
        "pbkdf2_ms": None,
    }


ROWS = [
    ("sm3_mbps", "SM3 bulk, MB/s"),
    ("sm3_ops", "SM3 64 B, ops/s"),
    ("hmac_ops", "HMAC-SM3 64 B, ops/s"),
    ("sm4_mbps", "SM4-GCM bulk, MB/s (gmssl: CBC, it has no GCM)"),
    ("field_enc", "SM4-GCM `encrypt()` 18 B field, ops/s (gmssl: CBC + fresh IV)"),
    ("field_dec", "SM4-GCM `decrypt()` 18 B field, ops/s"),
    ("blind", "`blind_index()`, ops/s"),
    ("sm2_sign", "SM2 sign 64 B (Z_A + SM3), ops/s"),
    ("sm2_verify", "SM2 verify via `sm2_verify(pem, …)`, ops/s"),
    ("sm2_verify_obj", "SM2 `signer.verify()`, ops/s"),
    ("pbkdf2_ms", f"`hash_password()` ({crypto.PASSWORD_ITERATIONS:,} it.), ms per hash"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per metric (default 1.0)")
    parser.add_argument(
        "--baseline-site",
        default=os.environ.get("FINSERV_BENCH_BASELINE_SITE"),
        help="site-packages of a throwaway venv holding gmssl",
    )
    args = parser.parse_args()
    if args.baseline_site:
        sys.path.append(args.baseline_site)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="finserv-bench-keys-") as key_dir:
        crypto.reset_keyring(key_dir)
        try:
            mine = ours(args.seconds)
            base = baseline(args.seconds)
        finally:
            crypto.reset_keyring()

    versions = {name: importlib.metadata.version(name) for name in ("cryptography", "tongsuopy")}
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"cryptography {versions['cryptography']}, tongsuopy {versions['tongsuopy']}\n"
    )
    if base is None:
        print(
            "NOTE: gmssl is not importable, so the pure-Python baseline is skipped "
            "(see --baseline-site; never install gmssl into the project venv).\n"
        )
        print("| Metric | finserv (cryptography / tongsuopy) |\n|---|---:|")
        for key, label in ROWS:
            print(f"| {label} | {fmt(mine[key])} |")
    else:
        gm_version = importlib.metadata.version("gmssl")
        print(f"| Metric | finserv (cryptography / tongsuopy) | gmssl {gm_version} (pure Python) | speed-up |")
        print("|---|---:|---:|---:|")
        for key, label in ROWS:
            theirs = base[key]
            ratio = f"{mine[key] / theirs:,.0f}×" if theirs else "–"
            print(f"| {label} | {fmt(mine[key])} | {fmt(theirs)} | {ratio} |")
    print(f"\nTotal run time {time.perf_counter() - started:.1f} s.")


if __name__ == "__main__":
    main()
