"""Gateways that deliver rendered messages. Deployments replace the embedded defaults."""

from zope.interface import Interface


class ISMSGateway(Interface):
    """Delivers one SMS. Called after the transaction that asked for it has committed.

    The embedded default (:class:`finserv.core.notify.outbox.OutboxSMSGateway`) writes the message
    to the site's outbox. A production adapter for a carrier's HTTP API registers itself as the
    unnamed ``ISMSGateway`` utility (e.g. in an ``overrides.zcml``) and sends ``text`` to
    ``mobile``; it must not raise for a single undeliverable number (log it instead).
    """

    def send(mobile, text, message):
        """Send *text* to *mobile*; *message* is the full outbox record (template, time, ...)."""


class IEmailGateway(Interface):
    """Delivers one e-mail, after commit. The default uses the outbox or Plone's MailHost."""

    def send(recipient, subject, body, message):
        """Send a plain-text e-mail."""
