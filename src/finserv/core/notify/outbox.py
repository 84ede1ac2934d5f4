"""The embedded delivery: an outbox in the ZODB (and optionally a JSON-lines file).

`make start` has no SMS carrier and usually no SMTP server; messages land here and managers read
them at ``@@notify-outbox``. If the environment variable ``FINSERV_OUTBOX`` names a file, each
message is also appended to it as one JSON line (handy for e2e tests and log shipping).
"""

from __future__ import annotations

import json
import logging
import os
import threading

from finserv.core.notify.interfaces import IEmailGateway
from finserv.core.notify.interfaces import ISMSGateway
from finserv.core.notify.store import OUTBOX_KEEP
from finserv.core.notify.store import get_store
from finserv.core.notify.txn import side_transaction
from plone.registry.interfaces import IRegistry
from zope.component import queryUtility
from zope.component.hooks import getSite
from zope.interface import implementer

logger = logging.getLogger(__name__)

_file_lock = threading.Lock()

USE_MAILHOST_RECORD = "finserv.notify.use_mailhost"


def append_to_outbox(message: dict, site=None) -> None:
    """Store *message* in the site's outbox in a transaction of its own (we run after commit)."""
    store = get_store(site)
    if store is None:
        logger.error("notify: no outbox on this site, message dropped: %s", message.get("template"))
        return
    key = message["id"]

    def write(outbox):
        outbox[key] = dict(message)
        return len(outbox) if len(outbox) > OUTBOX_KEEP * 1.1 else 0

    size = side_transaction(store.outbox, write)
    side_transaction(store.count, lambda length: length.change(1))
    if size:
        def trim(outbox):
            for old in list(outbox.keys()[: len(outbox) - OUTBOX_KEEP]):
                del outbox[old]

        side_transaction(store.outbox, trim)
    path = os.environ.get("FINSERV_OUTBOX")
    if path:
        line = json.dumps(message, ensure_ascii=False, sort_keys=True)
        with _file_lock, open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


@implementer(ISMSGateway)
class OutboxSMSGateway:
    """Embedded SMS gateway: the message goes to the outbox instead of a carrier."""

    def send(self, mobile, text, message):
        append_to_outbox(message)


@implementer(IEmailGateway)
class DefaultEmailGateway:
    """E-mail through Plone's MailHost when ``finserv.notify.use_mailhost`` is on, else the outbox."""

    def send(self, recipient, subject, body, message):
        registry = queryUtility(IRegistry)
        use_mailhost = bool(registry.get(USE_MAILHOST_RECORD, False)) if registry is not None else False
        if not use_mailhost:
            append_to_outbox(message)
            return
        from email.message import EmailMessage

        from plone import api

        site = getSite()
        sender = api.portal.get_registry_record("plone.email_from_address", default="") or "noreply@localhost"
        name = api.portal.get_registry_record("plone.email_from_name", default="") or ""
        mail = EmailMessage()
        mail["Subject"] = subject
        mail["From"] = f"{name} <{sender}>" if name else sender
        mail["To"] = recipient
        mail.set_content(body, charset="utf-8")
        site.MailHost.send(mail.as_string(), immediate=True)
