"""PAS plugin: a request carrying ``X-API-Key`` is authenticated as the key's principal."""

from AccessControl import ClassSecurityInfo
from AccessControl.class_init import InitializeClass
from finserv.core import apikeys
from plone import api
from Products.PluggableAuthService.interfaces.plugins import IAuthenticationPlugin
from Products.PluggableAuthService.interfaces.plugins import IExtractionPlugin
from Products.PluggableAuthService.plugins.BasePlugin import BasePlugin
from zExceptions import Unauthorized
from zope.i18n import translate
from zope.interface import implementer

import logging

logger = logging.getLogger("finserv.apikeys")
PLUGIN_ID = "finserv_apikeys"
ERROR_KEY = "finserv.apikey_error"


@implementer(IExtractionPlugin, IAuthenticationPlugin)
class ApiKeyPlugin(BasePlugin):
    meta_type = "finserv API Key Plugin"
    security = ClassSecurityInfo()

    def __init__(self, id, title=None):
        self._setId(id)
        self.title = title or "finserv API 密钥"

    @security.private
    def extractCredentials(self, request):
        presented = request.get_header("X-API-Key")
        return {"apikey": presented.strip(), "extractor": self.getId()} if presented else {}

    @security.private
    def authenticateCredentials(self, credentials):
        presented = credentials.get("apikey")
        if not presented:
            return None
        request = self.REQUEST
        portal = api.portal.get()
        path = request.get("PATH_INFO", "")
        address = request.getClientAddr() or ""
        try:
            info = apikeys.check(portal, presented, address, path)
        except apikeys.ApiKeyError as error:
            error.message = translate(error.message, context=request)
            request.environ[ERROR_KEY] = error
            _audit("apikey.refused", path, {"reason": error.message, "method": request.method}, actor="anonymous")
            return None
        _audit("apikey.call", path, {"key": info["id"], "name": info["name"], "method": request.method}, actor=info["principal"])
        return info["principal"], info["principal"]


def _audit(action, path, details, actor):
    from finserv.core.audit import record

    try:
        record(action, target=path, details=details, actor=actor)
    except Exception:  # auditing must never turn an API call into a 500
        logger.exception("could not audit %s", action)


InitializeClass(ApiKeyPlugin)


def refuse_bad_keys(event):
    """After traversal: a presented but unusable key is refused, not treated as anonymous."""
    request = event.request
    error = request.environ.get(ERROR_KEY)
    if error is None:
        return
    from zExceptions import Forbidden

    if error.status == 401:
        raise Unauthorized(error.message)
    if error.status == 429:
        request.response.setStatus(429, lock=True)
        raise Forbidden(error.message)
    raise Forbidden(error.message)
