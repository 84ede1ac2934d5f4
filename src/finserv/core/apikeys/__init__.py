"""API keys for machine clients (e.g. banks' systems calling back).

Administrators issue a key for a named principal, limited to named REST endpoints and,
optionally, to IP address ranges, with a rate limit; they can revoke it at any time. Only an
HMAC-SM3 of the secret is stored. Clients send ``X-API-Key: fsk_<id>_<secret>``; every call
is written to the audit trail, and a bad, revoked or out-of-scope key answers 401/403/429 —
never silently anonymous.
"""

from __future__ import annotations

from BTrees.OOBTree import OOBTree
from finserv import _
from finserv.core import crypto
from finserv.core.storage import site_storage
from persistent import Persistent
from persistent.mapping import PersistentMapping

import collections
import datetime
import hmac
import ipaddress
import re
import secrets
import threading
import time

ANNOTATION_KEY = "finserv.core.apikeys"
HEADER = "HTTP_X_API_KEY"
PREFIX = "fsk"
MANAGE_PERMISSION = "finserv: Manage API keys"
_KEY_RE = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{32,64}})$")


class ApiKeyError(Exception):
    """Why a presented key may not be used; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ApiKeyStore(Persistent):
    def __init__(self):
        self.keys = OOBTree()


def get_store(portal, create: bool = False) -> ApiKeyStore | None:
    return site_storage(portal, ANNOTATION_KEY, ApiKeyStore if create else None)


def _digest(secret: str) -> str:
    return crypto.hmac_sm3(crypto.get_keyring().hmac_key, b"finserv/apikey/v1\x00" + secret.encode()).hex()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def parse_ranges(ranges) -> list[str]:
    """Validated CIDR ranges (a bare address is a /32 or /128); raises ValueError."""
    out = []
    for item in ranges or ():
        item = str(item).strip()
        if item:
            out.append(str(ipaddress.ip_network(item, strict=False)))
    return out


def parse_endpoints(endpoints) -> list[str]:
    out = []
    for item in endpoints or ():
        item = str(item).strip()
        if not re.fullmatch(r"@[A-Za-z0-9_.-]+|\*", item):
            raise ValueError(item)
        out.append(item)
    if not out:
        raise ValueError("")
    return out


def issue(portal, name: str, principal: str, endpoints, ip_ranges=(), rate_limit: int = 60, issued_by: str = "") -> tuple[str, dict]:
    """Create a key; returns (the key to hand to the client — shown once, never stored, info)."""
    store = get_store(portal, create=True)
    key_id = secrets.token_hex(6)
    while key_id in store.keys:
        key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    info = PersistentMapping(
        id=key_id,
        name=name,
        principal=principal,
        endpoints=parse_endpoints(endpoints),
        ip_ranges=parse_ranges(ip_ranges),
        rate_limit=int(rate_limit),
        digest=_digest(secret),
        issued_at=_now(),
        issued_by=issued_by,
        revoked_at=None,
        revoked_by=None,
    )
    store.keys[key_id] = info
    return f"{PREFIX}_{key_id}_{secret}", public_info(info)


def revoke(portal, key_id: str, revoked_by: str = "") -> bool:
    store = get_store(portal)
    info = store.keys.get(key_id) if store else None
    if info is None or info["revoked_at"]:
        return False
    info["revoked_at"] = _now()
    info["revoked_by"] = revoked_by
    return True


def public_info(info) -> dict:
    return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in info.items() if k != "digest"}


def list_keys(portal) -> list[dict]:
    store = get_store(portal)
    return [public_info(info) for info in store.keys.values()] if store else []


class RateLimiter:
    """A per-process sliding one-minute window per key (Redis takes over in the cluster setup)."""

    def __init__(self):
        self._calls = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def allow(self, key_id: str, limit: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            calls = self._calls[key_id]
            while calls and calls[0] <= now - 60:
                calls.popleft()
            if len(calls) >= limit:
                return False
            calls.append(now)
            return True

    def reset(self):
        with self._lock:
            self._calls.clear()


limiter = RateLimiter()


def endpoints_of(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment.startswith("@") and not segment.startswith("@@")]


def check(portal, presented: str, address: str, path: str) -> dict:
    """The key's info if ``presented`` may call ``path`` from ``address`` now; else ApiKeyError."""
    match = _KEY_RE.match(presented or "")
    store = get_store(portal)
    info = store.keys.get(match.group(1)) if (match and store) else None
    if info is None or not hmac.compare_digest(info["digest"], _digest(match.group(2))):
        raise ApiKeyError(401, _("apikey_invalid", default="API 密钥无效。"))
    if info["revoked_at"]:
        raise ApiKeyError(401, _("apikey_revoked", default="API 密钥已被吊销。"))
    if info["ip_ranges"]:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if ip is None or not any(ip in ipaddress.ip_network(r) for r in info["ip_ranges"]):
            raise ApiKeyError(403, _("apikey_address", default="此 API 密钥不允许从地址 ${address} 调用。", mapping={"address": address}))
    wanted = endpoints_of(path)
    if "*" not in info["endpoints"] and not (wanted and all(e in info["endpoints"] for e in wanted)):
        raise ApiKeyError(403, _("apikey_endpoint", default="此 API 密钥无权调用该接口。"))
    if not limiter.allow(info["id"], info["rate_limit"]):
        raise ApiKeyError(429, _("apikey_rate", default="调用过于频繁：每分钟最多 ${limit} 次。", mapping={"limit": info["rate_limit"]}))
    return info
