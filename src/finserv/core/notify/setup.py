"""Install step of notify: the outbox/template store and the delivery switch (idempotent)."""

from finserv.core.notify.outbox import USE_MAILHOST_RECORD
from finserv.core.notify.store import get_store
from plone.registry import field
from plone.registry.interfaces import IRegistry
from plone.registry.record import Record
from zope.component import getUtility


def install_notify(portal):
    get_store(portal, create=True)
    registry = getUtility(IRegistry)
    if USE_MAILHOST_RECORD not in registry.records:
        registry.records[USE_MAILHOST_RECORD] = Record(
            field.Bool(
                title="通过 MailHost 发送邮件",
                description="开启后邮件经 Plone 的 MailHost（SMTP）发出；关闭时写入发件箱（内嵌部署默认）。",
                required=False,
            ),
            False,
        )
