"""HTTP caching for the platform: plone.app.caching with a caching proxy, purged on change.

``install_caching(portal)`` is an INSTALL_STEPS function (idempotent): it installs
plone.app.caching, applies its ``with-caching-proxy`` profile and finserv's settings
(``caching_registry.xml``), enables caching, and sets purging from the environment:

- ``FINSERV_PURGE_PROXY`` (e.g. ``http://127.0.0.1:8080``, comma-separated for several):
  purging enabled towards these proxies — the cluster's zope.conf files set it;
- unset: purging left as it is (off on a new site: the embedded setup has no proxy).

``configure_purging(portal, proxies)`` sets it explicitly (``proxies=()`` turns it off).
"""

from pathlib import Path
from plone.registry.interfaces import IRegistry
from zope.component import getUtility

import logging
import os

logger = logging.getLogger("finserv.caching")

REGISTRY_XML = Path(__file__).with_name("caching_registry.xml")
PURGE_ENV = "FINSERV_PURGE_PROXY"


class _ImportEnviron:
    def getLogger(self, name):
        return logging.getLogger(name)

    def shouldPurge(self):
        return False


def _profile_installed(setup, profile_id):
    version = setup.getLastVersionForProfile(profile_id)
    return version not in (None, "unknown", ("unknown",))


def install_caching(portal):
    from plone.app.registry.exportimport.handler import RegistryImporter

    setup = portal.portal_setup
    if not _profile_installed(setup, "plone.app.caching:default"):
        setup.runAllImportStepsFromProfile("profile-plone.app.caching:default")
    setup.runAllImportStepsFromProfile("profile-plone.app.caching:with-caching-proxy")
    registry = getUtility(IRegistry, context=portal)
    RegistryImporter(registry, _ImportEnviron()).importDocument(REGISTRY_XML.read_bytes())
    registry["plone.caching.interfaces.ICacheSettings.enabled"] = True
    # every content type is purged when it changes (plone.app.caching's default: files, images
    # and news items only)
    from plone.dexterity.interfaces import IDexterityFTI

    types = tuple(
        sorted(str(fti.getId()) for fti in portal.portal_types.objectValues() if IDexterityFTI.providedBy(fti))
    )
    key = "plone.app.caching.interfaces.IPloneCacheSettings.purgedContentTypes"
    if registry.get(key) != types:
        registry[key] = types
    proxies = os.environ.get(PURGE_ENV)
    if proxies is not None:
        configure_purging(portal, [p.strip() for p in proxies.split(",") if p.strip()])


def configure_purging(portal, proxies):
    registry = getUtility(IRegistry, context=portal)
    prefix = "plone.cachepurging.interfaces.ICachePurgingSettings."
    proxies = tuple(p.rstrip("/") for p in proxies)
    if registry.get(prefix + "cachingProxies") != proxies:
        registry[prefix + "cachingProxies"] = proxies
    if registry.get(prefix + "enabled") != bool(proxies):
        registry[prefix + "enabled"] = bool(proxies)
    logger.info("cache purging %s", f"towards {', '.join(proxies)}" if proxies else "off")
