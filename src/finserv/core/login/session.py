"""Sessions that expire: an idle timeout for the browser session cookie.

plone.session tickets are valid for ``timeout`` seconds from the time they were issued, and Plone
6 does not renew them by itself. We set ``timeout`` to ``finserv.login.session_idle_minutes``
(30 min) and renew the ticket of an active user once it is older than ``refresh_interval``
(5 min) — so a session ends 30 minutes after the last request. JWTs (REST) have a fixed
lifetime, ``finserv.login.jwt_timeout_minutes`` (2 h); clients renew them with @login-renew.
"""

from __future__ import annotations

import binascii
import time

from finserv.core.login.utils import logger
from zope.component.hooks import getSite

REFRESH_SECONDS = 300


def refresh_session(event):
    """IPubBeforeCommit: renew an aging plone.session ticket of an authenticated request."""
    request = event.request
    try:
        if "__ac" not in request.cookies:
            return
        if "__ac" in request.response.cookies:
            return  # this request logs in or out: leave its cookie alone
        user = request.get("AUTHENTICATED_USER")
        if user is None or not user.getId():
            return
        site = getSite()
        acl_users = getattr(site, "acl_users", None)
        session = acl_users._getOb("session", None) if acl_users is not None else None
        if session is None or acl_users._getOb("finserv_login", None) is None:
            return
        interval = session.getProperty("refresh_interval")
        if interval is None or interval < 0:
            return
        ticket = binascii.a2b_base64(request.cookies["__ac"])
        data = session._validateTicket(ticket)
        if data is None:
            return
        timestamp = data[4]
        if data[1] != user.getId() or time.time() - timestamp < interval:
            return
        session._setupSession(data[1], request.response, data[2], data[3])
    except Exception:  # noqa: BLE001 - never break a response over a cookie refresh
        logger.exception("session refresh failed")
