"""notify: e-mail and SMS from templates that site managers edit, sent after commit.

Usage::

    from finserv.core.notify import send
    send("sms", "13800138000", "sms_login_code", code="123456", minutes=5)

* Templates have Chinese defaults in :mod:`.templates`; managers override them at
  ``@@notify-templates``.
* Delivery goes through the :class:`ISMSGateway` / :class:`IEmailGateway` utilities. The embedded
  defaults write to the outbox (``@@notify-outbox``, ``GET @notify-outbox``); e-mail uses
  Plone's MailHost when the registry record ``finserv.notify.use_mailhost`` is on.
* Nothing leaves before the transaction commits: an aborted or retried request sends nothing,
  and a request retried after a ConflictError sends once.
"""

from __future__ import annotations

import datetime
import secrets
import time

from finserv.core.notify.interfaces import IEmailGateway
from finserv.core.notify.interfaces import ISMSGateway
from finserv.core.notify.store import get_store
from finserv.core.notify.templates import TemplateError
from finserv.core.notify.templates import get_template
from finserv.core.notify.templates import render_text
from finserv.core.notify.txn import after_commit
from zope.component import getUtility
from zope.component.hooks import getSite
from zope.component.hooks import setSite

__all__ = ["CHANNELS", "IEmailGateway", "ISMSGateway", "TemplateError", "render", "send"]

CHANNELS = ("email", "sms")


def _site_title(site) -> str:
    from plone.registry.interfaces import IRegistry
    from zope.component import queryUtility

    registry = queryUtility(IRegistry)
    title = registry.get("plone.site_title") if registry is not None else None
    return title or (site.Title() if site is not None else "") or "金融服务平台"


def render(template: str, **variables) -> dict:
    """Render *template* with *variables*; returns {channel, subject, body}."""
    site = getSite()
    tpl = get_template(template, get_store(site))
    values = {"site_title": _site_title(site)}
    values.update(variables)
    return {
        "channel": tpl["channel"],
        "subject": render_text(tpl.get("subject", ""), values),
        "body": render_text(tpl["body"], values),
    }


def send(channel: str, recipient: str, template: str, **variables) -> dict:
    """Render *template* and deliver it to *recipient* once the current transaction commits.

    Returns the message record (without delivering it yet). Raises TemplateError for an unknown
    template and ValueError for a bad channel, an empty recipient, or a template of the other
    channel.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown notify channel: {channel!r}")
    if not recipient:
        raise ValueError("notify: empty recipient")
    rendered = render(template, **variables)
    if rendered["channel"] != channel:
        raise ValueError(f"template {template!r} is for {rendered['channel']}, not {channel}")
    message = {
        "id": f"{time.time_ns():020d}-{secrets.token_hex(4)}",
        "time": datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds"),
        "channel": channel,
        "recipient": recipient,
        "template": template,
        "subject": rendered["subject"],
        "body": rendered["body"],
    }
    site = getSite()
    after_commit(_deliver, site, message)
    return message


def _deliver(site, message: dict) -> None:
    previous = getSite()
    setSite(site)
    try:
        if message["channel"] == "sms":
            getUtility(ISMSGateway).send(message["recipient"], message["body"], message)
        else:
            getUtility(IEmailGateway).send(message["recipient"], message["subject"], message["body"], message)
    finally:
        setSite(previous)
