"""Manager views: the outbox (@@notify-outbox) and the template editor (@@notify-templates)."""

from finserv import _
from finserv.core.notify.store import get_store
from finserv.core.notify.templates import DEFAULT_TEMPLATES
from finserv.core.notify.templates import TemplateError
from finserv.core.notify.templates import check_template_text
from finserv.core.notify.templates import get_template
from plone.protect import CheckAuthenticator
from plone.restapi.services import Service
from Products.Five.browser import BrowserView
from Products.statusmessages.interfaces import IStatusMessage
from zope.i18n import translate

OUTBOX_PAGE = 200


def latest_messages(site, limit=OUTBOX_PAGE):
    store = get_store(site)
    if store is None:
        return []
    items = []
    for key in reversed(store.outbox.keys()):
        items.append(dict(store.outbox[key]))
        if len(items) >= limit:
            break
    return items


class OutboxView(BrowserView):
    """Latest messages in the embedded outbox, newest first (permission: Manage portal)."""

    def messages(self):
        return latest_messages(self.context)

    def total(self):
        store = get_store(self.context)
        return store.count() if store is not None else 0


class OutboxGet(Service):
    """GET @notify-outbox: the latest messages as JSON (for managers and e2e tests)."""

    def reply(self):
        try:
            limit = max(1, min(int(self.request.form.get("limit", 50)), OUTBOX_PAGE))
        except ValueError:
            limit = 50
        items = latest_messages(self.context, limit)
        return {"items": items, "items_total": len(items)}


class TemplatesView(BrowserView):
    """Edit the e-mail and SMS templates (permission: Manage portal)."""

    def templates(self):
        store = get_store(self.context)
        result = []
        for name in DEFAULT_TEMPLATES:
            tpl = get_template(name, store)
            tpl["name"] = name
            tpl["default_body"] = DEFAULT_TEMPLATES[name]["body"]
            result.append(tpl)
        return result

    def __call__(self):
        form = self.request.form
        if self.request.method == "POST" and ("form.save" in form or "form.reset" in form):
            CheckAuthenticator(self.request)
            self._save(form)
            return self.request.response.redirect(self.context.absolute_url() + "/@@notify-templates")
        return self.index()

    def _save(self, form):
        store = get_store(self.context, create=True)
        messages = IStatusMessage(self.request)
        name = form.get("name", "")
        if name not in DEFAULT_TEMPLATES:
            messages.add(translate(_("notify_unknown_template", default="未知的消息模板：${name}", mapping={"name": name}), context=self.request), "error")
            return
        if "form.reset" in form:
            if name in store.templates:
                del store.templates[name]
            messages.add(translate(_("notify_template_reset", default="已恢复默认模板"), context=self.request), "info")
            return
        subject = form.get("subject", "") or ""
        body = form.get("body", "") or ""
        if not body.strip():
            messages.add(translate(_("notify_template_empty", default="模板正文不能为空"), context=self.request), "error")
            return
        try:
            check_template_text(name, subject)
            check_template_text(name, body)
        except TemplateError as exc:
            messages.add(translate(exc.args[0], context=self.request), "error")
            return
        store.templates[name] = {"subject": subject, "body": body}
        messages.add(translate(_("notify_template_saved", default="模板已保存"), context=self.request), "info")
