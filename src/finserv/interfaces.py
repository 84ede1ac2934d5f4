"""Marker interfaces shared across finserv."""

from zope.publisher.interfaces.browser import IDefaultBrowserLayer


class IFinservLayer(IDefaultBrowserLayer):
    """Browser layer: active on sites where the finserv profile is installed."""
