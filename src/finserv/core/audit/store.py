"""The audit store: an append-only SM3 hash chain in the ZODB, with SM2-signed checkpoints.

Layout (one per Plone site, in the portal's annotations under :data:`ANNOTATION_KEY`)::

    AuditStore (Persistent)
      chain_id            random hex id of this chain (also in record 1 and every checkpoint)
      last_seq, head_hash sequence number and hash of the newest record
      _records            AuditTree (LOBTree): sequence -> record dict
      _checkpoints        AuditTree (LOBTree): sequence -> checkpoint dict
      checkpoint_interval sign the head every N records (default 100)
      checkpoint_max_age  ... or when the last checkpoint is older than this many seconds

A record is a plain dict (stored inside its BTree bucket, so it cannot be changed on its own)::

    sequence, timestamp (UTC, ISO 8601), timestamp_local (Asia/Shanghai), actor, address,
    peer, action, target, details, prev_hash, hash

``hash`` = SM3 over the canonical JSON (sorted keys, ``ensure_ascii=False``, separators
``,`` and ``:``, UTF-8) of all the other fields, ``prev_hash`` included. The first record's
``prev_hash`` is :data:`GENESIS_HASH`.

A checkpoint signs ``{chain_id, sequence, head_hash, signed_at, key_fingerprint, reason}``
(canonical JSON) with the ``system`` SM2 signer; it is stored in the ZODB and, once the
transaction commits, appended as one JSON line to the checkpoints file outside the ZODB.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import os
import secrets
import time
from pathlib import Path

import transaction
from BTrees.LOBTree import LOBTree
from BTrees.LOBTree import LOBucket
from persistent import Persistent

from finserv.core import crypto

logger = logging.getLogger("finserv.audit")

ANNOTATION_KEY = "finserv.core.audit"
GENESIS_HASH = "0" * 64
DEFAULT_CHECKPOINT_INTERVAL = 100
DEFAULT_CHECKPOINT_MAX_AGE = 24 * 3600
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991
MAX_DETAILS_CHARS = 8000
MAX_FIELD_CHARS = 500
RECORD_FIELDS = (
    "sequence",
    "timestamp",
    "timestamp_local",
    "actor",
    "address",
    "peer",
    "action",
    "target",
    "details",
    "prev_hash",
    "hash",
)
CHECKPOINT_SIGNED_FIELDS = ("chain_id", "sequence", "head_hash", "signed_at", "key_fingerprint", "reason")


class AuditBucket(LOBucket):
    """Leaf of the audit trees (its own class so CSRF protection can recognise audit writes)."""


class AuditTree(LOBTree):
    """sequence number -> record (or checkpoint) dict."""

    _bucket_type = AuditBucket


# --- canonical form and hashes -----------------------------------------------------------------


def canonical_json(data) -> bytes:
    """The one serialisation that is hashed and signed."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def record_hash(rec: dict) -> str:
    """SM3 (hex) over the canonical JSON of every field of *rec* except ``hash``."""
    return crypto.sm3_hex(canonical_json({k: v for k, v in rec.items() if k != "hash"}))


def _json_default(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def normalise_details(details) -> dict:
    """Make *details* plain JSON (what is stored is exactly what is hashed); cap its size."""
    if details is None:
        return {}
    text = json.dumps(details, ensure_ascii=False, sort_keys=True, default=_json_default)
    if len(text) > MAX_DETAILS_CHARS:
        return {"_truncated": text[:MAX_DETAILS_CHARS]}
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


def _short(value, limit: int = MAX_FIELD_CHARS) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utc_iso(moment: datetime.datetime) -> str:
    """Fixed-width UTC timestamp, so that string order is time order."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def shanghai_display(moment: datetime.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


# --- keys and the checkpoints file -------------------------------------------------------------


def key_fingerprint(public_key_pem: bytes | str) -> str:
    """SM3 (hex) of the DER SubjectPublicKeyInfo inside a PEM public key."""
    if isinstance(public_key_pem, str):
        public_key_pem = public_key_pem.encode("ascii")
    body = b"".join(line for line in public_key_pem.strip().splitlines() if not line.startswith(b"-----"))
    return crypto.sm3_hex(base64.b64decode(body))


def checkpoints_file() -> Path:
    """Where checkpoints are copied outside the ZODB.

    ``FINSERV_AUDIT_CHECKPOINTS`` if set, else ``audit-checkpoints.jsonl`` next to the key
    directory (``var/audit-checkpoints.jsonl`` with the default ``var/keys``).
    """
    configured = os.environ.get("FINSERV_AUDIT_CHECKPOINTS")
    if configured:
        return Path(configured).absolute()
    return crypto.get_keyring().key_dir.parent / "audit-checkpoints.jsonl"


def _append_line(status: bool, path: str, line: str) -> None:
    """After-commit hook: append one checkpoint line (only if the transaction committed)."""
    if not status:
        return
    try:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except Exception:  # the ZODB copy is committed; never turn a commit into an error
        logger.exception("审计检查点未能写入文件 / could not write audit checkpoint to %s", path)


# --- the store ---------------------------------------------------------------------------------


class AuditStore(Persistent):
    """Append-only audit trail of one site. Only :meth:`append` and :meth:`checkpoint` write."""

    def __init__(self) -> None:
        self.chain_id = secrets.token_hex(16)
        self.created = utc_iso(datetime.datetime.now(datetime.timezone.utc))
        self.last_seq = 0
        self.head_hash = GENESIS_HASH
        self._records = AuditTree()
        self._checkpoints = AuditTree()
        self.checkpoint_interval = DEFAULT_CHECKPOINT_INTERVAL
        self.checkpoint_max_age = DEFAULT_CHECKPOINT_MAX_AGE
        self.last_checkpoint_seq = 0
        self.last_checkpoint_time = time.time()

    # reading ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.last_seq

    def get(self, sequence: int) -> dict | None:
        rec = self._records.get(sequence)
        return dict(rec) if rec is not None else None

    def items(self, min_seq: int | None = None, max_seq: int | None = None):
        """(sequence, record) in sequence order; records are the stored dicts — do not mutate."""
        return self._records.items(min_seq, max_seq)

    def checkpoints(self) -> list[dict]:
        return [dict(cp) for cp in self._checkpoints.values()]

    # writing ----------------------------------------------------------------------------------

    def append(
        self,
        action: str,
        target: str = "",
        details: dict | None = None,
        actor: str = "",
        address: str = "",
        peer: str = "",
        site_path: str = "",
        now: datetime.datetime | None = None,
    ) -> dict:
        """Append one record to the chain and return it; sign the head when a checkpoint is due."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        seq = self.last_seq + 1
        rec = {
            "sequence": seq,
            "timestamp": utc_iso(now),
            "timestamp_local": shanghai_display(now),
            "actor": _short(actor, 200),
            "address": _short(address, 100),
            "peer": _short(peer, 100),
            "action": _short(action, 100),
            "target": _short(target),
            "details": normalise_details(details),
            "prev_hash": self.head_hash,
        }
        rec["hash"] = record_hash(rec)
        self._records[seq] = rec
        self.last_seq = seq
        self.head_hash = rec["hash"]
        if self.checkpoint_due():
            try:
                self.checkpoint(reason="periodic", site_path=site_path)
            except Exception:  # a missing key must not block logins; the next record retries
                logger.exception("审计检查点签名失败 / could not sign audit checkpoint at #%s", seq)
        return rec

    def checkpoint_due(self) -> bool:
        pending = self.last_seq - self.last_checkpoint_seq
        if pending <= 0:
            return False
        return pending >= self.checkpoint_interval or time.time() - self.last_checkpoint_time >= self.checkpoint_max_age

    def checkpoint(self, reason: str = "on_demand", site_path: str = "") -> dict | None:
        """Sign the current head with the system SM2 key; store it here and (after commit) in the
        checkpoints file. Returns the checkpoint, or None for an empty chain."""
        if self.last_seq == 0:
            return None
        existing = self._checkpoints.get(self.last_seq)
        if existing is not None:
            return dict(existing)
        signer = crypto.get_signer("system")
        public_pem = signer.public_key_pem()
        cp = {
            "chain_id": self.chain_id,
            "sequence": self.last_seq,
            "head_hash": self.head_hash,
            "signed_at": utc_iso(datetime.datetime.now(datetime.timezone.utc)),
            "key_fingerprint": key_fingerprint(public_pem),
            "reason": reason,
        }
        cp["signature"] = base64.b64encode(signer.sign(checkpoint_payload(cp))).decode("ascii")
        cp["public_key"] = public_pem.decode("ascii")
        self._checkpoints[cp["sequence"]] = cp
        self.last_checkpoint_seq = cp["sequence"]
        self.last_checkpoint_time = time.time()
        line = json.dumps({"site": site_path, **cp}, ensure_ascii=False, sort_keys=True)
        transaction.get().addAfterCommitHook(_append_line, args=(str(checkpoints_file()), line))
        return dict(cp)


def checkpoint_payload(cp: dict) -> bytes:
    """The bytes an SM2 checkpoint signature covers."""
    return canonical_json({name: cp.get(name) for name in CHECKPOINT_SIGNED_FIELDS})
