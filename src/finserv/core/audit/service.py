"""GET @audit-log: the audit trail for the REST API, same filters and permission as @@audit-log.

Only GET is registered: there is no REST service that writes, edits or deletes a record.
"""

from finserv.core.audit import get_store
from finserv.core.audit import search
from finserv.core.audit.browser import action_title
from finserv.core.audit.browser import FilterError
from finserv.core.audit.browser import parse_filters
from plone.restapi.batching import HypermediaBatch
from plone.restapi.services import Service
from zope.i18n import translate


class AuditLogGet(Service):
    def reply(self):
        try:
            entered, query = parse_filters(self.request.form)
        except FilterError as error:
            self.request.response.setStatus(400)
            return {"type": "BadRequest", "message": translate(error.message, context=self.request)}
        store = get_store(self.context)
        if store is None:
            self.request.response.setStatus(404)
            return {"type": "NotFound", "message": "审计日志未安装 / audit trail not installed"}
        batch = HypermediaBatch(self.request, search(store, **query))
        items = []
        for seq in batch:
            rec = store.get(seq)
            rec["action_title"] = action_title(rec["action"], self.request)
            items.append(rec)
        data = {
            "@id": batch.canonical_url,
            "items_total": batch.items_total,
            "items": items,
            "filters": entered,
            "head": {"chain_id": store.chain_id, "last_sequence": store.last_seq, "head_hash": store.head_hash},
        }
        if batch.links:
            data["batching"] = batch.links
        return data
