"""Verification of the audit chain: every record's SM3 hash, every link, every SM2 checkpoint.

``verify_chain(store)`` walks the chain from record 1 and stops at the first record that does
not fit; it then checks every checkpoint (in the ZODB and in the checkpoints file outside it)
against its signature, the trusted keys, and the hash of the record it signed. The result
names the earliest problem: its sequence number and its kind.

Kinds:

* ``altered``        a record's content no longer matches its hash
* ``removed``        a sequence number is missing, or a record no longer links to the one
                     before it (one was removed and later ones renumbered — or the previous
                     one was altered and re-hashed)
* ``inserted``       a record sits in the chain that the next record does not link through,
                     or a record sits at a position other than its own sequence number
* ``rewritten``      the chain was re-hashed: a signed checkpoint no longer matches it
* ``bad_signature``  a checkpoint's SM2 signature does not verify
* ``untrusted_key``  a checkpoint was signed by a key that is not a trusted audit key
* ``checkpoint_missing`` a checkpoint in the file outside the ZODB is gone from the ZODB
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import logging
import os
from pathlib import Path

from finserv.core import crypto
from finserv.core.audit.store import GENESIS_HASH
from finserv.core.audit.store import checkpoint_payload
from finserv.core.audit.store import checkpoints_file
from finserv.core.audit.store import key_fingerprint
from finserv.core.audit.store import record_hash

logger = logging.getLogger("finserv.audit")

KIND_TITLES = {
    "altered": ("记录被篡改", "record altered"),
    "removed": ("记录被删除", "record removed"),
    "inserted": ("记录被插入", "record inserted"),
    "rewritten": ("哈希链被重写", "chain rewritten"),
    "bad_signature": ("检查点签名无效", "bad checkpoint signature"),
    "untrusted_key": ("检查点签名密钥不受信任", "checkpoint signed by an untrusted key"),
    "checkpoint_missing": ("检查点被删除", "checkpoint removed"),
}


@dataclasses.dataclass(frozen=True)
class Problem:
    sequence: int
    kind: str
    message: str  # English detail; the Chinese title comes from KIND_TITLES

    @property
    def title_zh(self) -> str:
        return KIND_TITLES[self.kind][0]

    @property
    def title_en(self) -> str:
        return KIND_TITLES[self.kind][1]

    def as_dict(self) -> dict:
        return {
            "sequence": self.sequence,
            "kind": self.kind,
            "title": self.title_zh,
            "title_en": self.title_en,
            "message": self.message,
        }

    def __str__(self) -> str:
        return f"#{self.sequence} {self.title_zh} / {self.title_en}: {self.message}"


@dataclasses.dataclass
class VerifyResult:
    records: int = 0
    last_sequence: int = 0
    head_hash: str = ""
    checkpoints: int = 0
    file_checkpoints: int = 0
    other_chains_in_file: int = 0
    problems: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.sequence) if self.problems else None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "records": self.records,
            "last_sequence": self.last_sequence,
            "head_hash": self.head_hash,
            "checkpoints": self.checkpoints,
            "file_checkpoints": self.file_checkpoints,
            "first": self.first.as_dict() if self.first else None,
            "problems": [p.as_dict() for p in sorted(self.problems, key=lambda p: p.sequence)],
        }

    def report(self) -> str:
        """A result an operator can read, in Chinese and English."""
        lines = []
        if self.ok:
            lines.append(
                f"审计日志校验通过：{self.records} 条记录，{self.checkpoints} 个签名检查点"
                f"（文件中 {self.file_checkpoints} 个），哈希链完整。"
            )
            lines.append(
                f"Audit trail OK: {self.records} records, {self.checkpoints} signed checkpoints"
                f" ({self.file_checkpoints} in the file), the hash chain is intact."
            )
            lines.append(f"head #{self.last_sequence} {self.head_hash}")
        else:
            first = self.first
            lines.append(f"审计日志校验失败：第 {first.sequence} 条记录处发现问题——{first.title_zh}。")
            lines.append(f"Audit trail verification FAILED at record #{first.sequence}: {first.title_en}.")
            lines.append(f"  {first.message}")
            others = [p for p in sorted(self.problems, key=lambda p: p.sequence) if p is not first]
            if others:
                lines.append("其他问题 / further problems:")
                lines.extend(f"  {p}" for p in others)
        if self.other_chains_in_file:
            lines.append(
                f"（检查点文件中另有 {self.other_chains_in_file} 行属于其他哈希链，已忽略 /"
                f" {self.other_chains_in_file} lines of the checkpoints file belong to other chains and were ignored）"
            )
        return "\n".join(lines)


def trusted_fingerprints() -> set[str]:
    """Fingerprints of keys whose checkpoints are trusted: the current system signer's, plus
    ``FINSERV_AUDIT_TRUSTED_KEYS`` (comma-separated SM3 fingerprints of earlier keys)."""
    trusted = {f.strip().lower() for f in os.environ.get("FINSERV_AUDIT_TRUSTED_KEYS", "").split(",") if f.strip()}
    try:
        trusted.add(key_fingerprint(crypto.get_signer("system").public_key_pem()))
    except crypto.CryptoError:
        logger.exception("无法读取审计签名公钥 / cannot load the audit signing key")
    return trusted


def _check_signature(cp: dict, trusted: set[str], where: str) -> Problem | None:
    seq = cp.get("sequence", 0)
    public_pem = (cp.get("public_key") or "").encode("ascii", "replace")
    try:
        signature = base64.b64decode(cp.get("signature") or "", validate=True)
        valid = crypto.sm2_verify(public_pem, checkpoint_payload(cp), signature)
        fingerprint = key_fingerprint(public_pem)
    except (crypto.CryptoError, binascii.Error, ValueError):
        valid, fingerprint = False, ""
    if not valid:
        return Problem(seq, "bad_signature", f"the SM2 signature of checkpoint #{seq} ({where}) does not verify")
    if fingerprint != cp.get("key_fingerprint") or fingerprint not in trusted:
        return Problem(seq, "untrusted_key", f"checkpoint #{seq} ({where}) was signed by key {fingerprint[:16]}…, not a trusted audit key")
    return None


def _walk(store, result: VerifyResult) -> dict[int, str]:
    """Walk the records in order; return {sequence: hash} of the records that verified."""
    good: dict[int, str] = {}
    prev_key, prev = 0, None
    expected = 1
    for i, (key, rec) in enumerate(store.items()):
        if i and i % 20000 == 0 and store._p_jar is not None:
            store._p_jar.cacheGC()
        result.records += 1
        if record_hash(rec) != rec.get("hash"):
            result.problems.append(Problem(key, "altered", f"the content of record #{key} does not match its SM3 hash"))
            return good
        if key > expected:
            missing = f"#{expected}" if key == expected + 1 else f"#{expected}–#{key - 1}"
            result.problems.append(Problem(expected, "removed", f"record {missing} is missing (the chain jumps to #{key})"))
            return good
        expected_prev = prev["hash"] if prev is not None else GENESIS_HASH
        linked = rec.get("prev_hash") == expected_prev
        placed = rec.get("sequence") == key
        if linked and placed:
            good[key] = rec["hash"]
            prev_key, prev, expected = key, rec, key + 1
            continue
        if prev is not None and rec.get("hash") == prev.get("hash"):
            result.problems.append(Problem(key, "inserted", f"record #{key} is a copy of record #{prev_key}"))
        elif prev is not None and rec.get("prev_hash") == prev.get("prev_hash"):
            good.pop(prev_key, None)
            result.problems.append(
                Problem(
                    prev_key,
                    "inserted",
                    f"record #{prev_key} is not part of the chain: record #{key} links to the record before it",
                )
            )
        elif not placed and isinstance(rec.get("sequence"), int) and rec["sequence"] > key:
            result.problems.append(
                Problem(key, "removed", f"record #{rec['sequence']} sits at #{key}: records before it were removed")
            )
        elif not placed:
            result.problems.append(
                Problem(key, "inserted", f"record #{rec.get('sequence')} sits at #{key}: records were inserted before it")
            )
        else:
            result.problems.append(
                Problem(
                    key,
                    "removed",
                    f"record #{key} does not link to record #{prev_key}: a record between them was removed"
                    f" and later ones renumbered, or #{prev_key} was altered and re-hashed",
                )
            )
        return good
    # the walk reached the end: does it end where the store says it does?
    if prev_key < store.last_seq:
        result.problems.append(
            Problem(prev_key + 1, "removed", f"the store's head is #{store.last_seq} but the chain ends at #{prev_key}")
        )
    elif prev_key > store.last_seq:
        result.problems.append(
            Problem(store.last_seq + 1, "inserted", f"records after the store's head #{store.last_seq} were added")
        )
    elif prev is not None and prev["hash"] != store.head_hash:
        result.problems.append(Problem(prev_key, "altered", f"record #{prev_key} does not match the store's head hash"))
    return good


def read_checkpoints_file(path: Path, chain_id: str) -> tuple[list[dict], int]:
    """Checkpoint lines of *chain_id* in the file, and the number of lines of other chains."""
    mine, others = [], 0
    if not path.is_file():
        return mine, others
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                cp = json.loads(line)
            except ValueError:
                logger.warning("检查点文件第 %s 行无法解析 / unreadable line %s in %s", number, number, path)
                others += 1
                continue
            if cp.get("chain_id") == chain_id:
                mine.append(cp)
            else:
                others += 1
    return mine, others


def verify_chain(store, checkpoint_path: str | os.PathLike[str] | None = None) -> VerifyResult:
    """Verify the whole chain and its checkpoints; see the module docstring for the kinds.

    *checkpoint_path* defaults to :func:`checkpoints_file`; pass ``False`` to skip the file.
    """
    result = VerifyResult(last_sequence=store.last_seq, head_hash=store.head_hash)
    good = _walk(store, result)
    trusted = trusted_fingerprints()
    signed: set[int] = set()  # checkpoints that match the chain

    def check(cp: dict, where: str) -> None:
        seq = cp.get("sequence", 0)
        problem = _check_signature(cp, trusted, where)
        if problem is not None:
            result.problems.append(problem)
            return
        rec = store._records.get(seq)
        if rec is None:
            result.problems.append(
                Problem(seq, "removed", f"record #{seq}, signed in checkpoint ({where}), is gone from the chain")
            )
        elif rec.get("hash") != cp.get("head_hash"):
            if seq in good:  # otherwise the walk has already reported why this record differs
                start = max((s for s in signed if s < seq), default=0) + 1
                result.problems.append(
                    Problem(
                        start,
                        "rewritten",
                        f"record #{seq} no longer has the hash signed in checkpoint #{seq} ({where}):"
                        f" records #{start}–#{seq} were changed and re-hashed",
                    )
                )
        else:
            signed.add(seq)

    in_store = store._checkpoints
    for cp in in_store.values():
        result.checkpoints += 1
        if cp.get("chain_id") != store.chain_id:
            result.problems.append(Problem(cp.get("sequence", 0), "bad_signature", "checkpoint of another chain"))
            continue
        check(cp, "ZODB")
    if checkpoint_path is not False:
        path = Path(checkpoint_path) if checkpoint_path else checkpoints_file()
        lines, result.other_chains_in_file = read_checkpoints_file(path, store.chain_id)
        for cp in lines:
            result.file_checkpoints += 1
            seq = cp.get("sequence", 0)
            stored = in_store.get(seq)
            check(cp, str(path))
            if stored is None or stored.get("signature") != cp.get("signature"):
                if _check_signature(cp, trusted, "file") is None:
                    result.problems.append(
                        Problem(seq, "checkpoint_missing", f"checkpoint #{seq} is in {path} but not in the ZODB")
                    )
    # one problem per sequence and kind is enough
    unique = {}
    for p in result.problems:
        unique.setdefault((p.sequence, p.kind), p)
    result.problems = list(unique.values())
    return result
