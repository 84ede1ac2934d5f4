"""Subscribers to PAS events: password history and checks, the mobile index, clean-up."""

from __future__ import annotations

from finserv.core.login import lockout
from finserv.core.login import mobile
from finserv.core.login import policy
from finserv.core.login.utils import audit
from finserv.core.login.utils import get_plugin
from finserv.core.login.utils import tr
from finserv.core.login.utils import user_target
from zExceptions import BadRequest
from zope.globalrequest import getRequest


def _plugin_for(principal):
    try:
        from Acquisition import aq_parent

        pas = aq_parent(principal)
        plugin = pas._getOb("finserv_login", None) if pas is not None else None
    except AttributeError:
        plugin = None
    return plugin if plugin is not None else get_plugin()


def credentials_updated(event):
    """A password was changed (PlonePAS UserManager.doChangeUser): check it, remember it.

    The policy was already checked by testPasswordValidity on Plone's paths; this catches the
    rest (and the history when the requester could not be identified earlier). Raising aborts
    the transaction, so a refused password is never stored.
    """
    principal = event.principal
    password = getattr(event, "password", None)
    plugin = _plugin_for(principal)
    if plugin is None or not password:
        return
    userid = principal.getId()
    login = principal.getUserName()
    errors = policy.check_rules(password, login)
    if not errors and policy.in_history(plugin, userid, password, include_current=False):
        errors.append(policy.reused_message())
    if errors:
        raise BadRequest("；".join(tr(message) for message in errors))
    policy.remember(plugin, userid, policy.current_hash(plugin, userid))
    lockout.reset(plugin, login)
    audit("password.changed", target=user_target(userid), request=getRequest())
    _tell_owner(principal)


def _tell_owner(principal):
    """E-mail the owner that the password changed (sent after commit; never blocks the change)."""
    import datetime

    from finserv.core.notify import send

    try:
        email = principal.getProperty("email", "") or ""
        if not email:
            return
        now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
        send(
            "email",
            email,
            "email_password_changed",
            fullname=principal.getProperty("fullname", "") or principal.getUserName(),
            time=now.strftime("%Y-%m-%d %H:%M"),
        )
    except Exception:  # noqa: BLE001
        from finserv.core.login.utils import logger

        logger.exception("could not queue the password-changed notice for %s", principal.getId())


def principal_created(event):
    principal = event.principal
    plugin = _plugin_for(principal)
    if plugin is None:
        return
    userid = principal.getId()
    policy.remember(plugin, userid, policy.current_hash(plugin, userid))


def principal_deleted(event):
    userid = event.principal
    if not isinstance(userid, str):
        userid = getattr(userid, "getId", lambda: None)()
    plugin = get_plugin()
    if plugin is None or not userid:
        return
    mobile.set_user_mobile(plugin, userid, None)
    for tree in (plugin.history, plugin.totp, plugin.totp_steps):
        if userid in tree:
            del tree[userid]


def properties_updated(event):
    """Keep the blind index of mobile numbers in step with the ``mobile`` member property."""
    properties = getattr(event, "properties", None) or {}
    if "mobile" not in properties:
        return
    principal = event.principal
    plugin = get_plugin()
    if plugin is None:
        return
    mobile.set_user_mobile(plugin, principal.getId(), properties.get("mobile"))
