"""Mobile numbers of members: the ``mobile`` member property and a blind index to find users.

The index (plugin ``mobiles``: blind_index(mobile) → tuple of user ids, and ``user_mobiles``:
user id → blind index) is kept up to date by a subscriber to PAS's PropertiesUpdated event, so
the SMS login never scans all members and the index holds no phone numbers in clear.
"""

from __future__ import annotations

import re
import unicodedata

from finserv.core import crypto

PURPOSE = "member.mobile"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise(value) -> str | None:
    """A mainland mobile number as 11 digits, or None if *value* is not one."""
    if not isinstance(value, str):
        return None
    value = unicodedata.normalize("NFKC", value)
    value = re.sub(r"[\s\-()]", "", value)
    for prefix in ("+86", "0086", "86"):
        if value.startswith(prefix) and len(value) == len(prefix) + 11:
            value = value[len(prefix) :]
            break
    return value if _MOBILE.match(value) else None


def index_of(mobile: str) -> str:
    return crypto.blind_index(mobile, PURPOSE)


def mask(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if mobile and len(mobile) >= 7 else "****"


def set_user_mobile(plugin, userid: str, value) -> None:
    """Index *value* as the mobile of *userid* (main transaction); '' or invalid unindexes."""
    mobile = normalise(value) if value else None
    new = index_of(mobile) if mobile else None
    old = plugin.user_mobiles.get(userid)
    if old == new:
        return
    if old is not None:
        owners = tuple(u for u in plugin.mobiles.get(old, ()) if u != userid)
        if owners:
            plugin.mobiles[old] = owners
        elif old in plugin.mobiles:
            del plugin.mobiles[old]
        del plugin.user_mobiles[userid]
    if new is not None:
        owners = plugin.mobiles.get(new, ())
        if userid not in owners:
            plugin.mobiles[new] = tuple(owners) + (userid,)
        plugin.user_mobiles[userid] = new


def users_for(plugin, mobile: str) -> tuple:
    return tuple(plugin.mobiles.get(index_of(mobile), ()))


def user_mobile(user) -> str | None:
    """The normalised mobile number of a member (None if it has none)."""
    try:
        value = user.getProperty("mobile", None)
    except Exception:  # noqa: BLE001 - users from foreign sources may have no property sheets
        value = None
    return normalise(value) if value else None
