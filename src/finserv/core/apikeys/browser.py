"""Classic UI page for administrators: issue, list and revoke API keys."""

from finserv import _
from finserv.core import apikeys
from finserv.core.apikeys.services import create_key
from finserv.core.apikeys.services import revoke_key
from plone.protect import CheckAuthenticator
from Products.Five.browser import BrowserView
from zope.i18n import translate


class ApiKeysView(BrowserView):
    new_key = None
    message = None
    error = None

    def __call__(self):
        form = self.request.form
        if self.request.method == "POST":
            CheckAuthenticator(self.request)
            if form.get("revoke"):
                status, body = revoke_key(self.context, form["revoke"])
                self.message = translate(_("apikey_revoked_done", default="已吊销。"), context=self.request) if status == 204 else body["message"]
            else:
                data = {
                    "name": form.get("name"),
                    "principal": form.get("principal"),
                    "endpoints": (form.get("endpoints") or "").split(),
                    "ip_ranges": (form.get("ip_ranges") or "").split(),
                    "rate_limit": form.get("rate_limit"),
                }
                status, body = create_key(self.context, data)
                if status == 201:
                    self.new_key = body["key"]
                else:
                    self.error = body["message"]
        return self.index()

    def keys(self):
        return sorted(apikeys.list_keys(self.context), key=lambda k: k["issued_at"], reverse=True)
