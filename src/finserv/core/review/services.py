"""REST API of review (the mini-program and staff phones).

* ``GET <item>/@review``: status, chain, current step, history, what the current user may do
* ``POST <item>/@review`` ``{"action": "submit|approve|return|reject|withdraw", "comment": "",
  "chain": "<id, for submit>", "ticket": <optional, from GET>}``
* ``GET @review-pending``: the current user's queue, batched (``b_start``, ``b_size``)
* ``GET / POST @review-chains`` (site managers): list chains; create one or add a version

Bad input answers 400 with a Chinese ``message`` and changes nothing (the transaction is
doomed); a decision on a step the item has left answers 409; someone who may not act, 403.
"""

from AccessControl import Unauthorized
from finserv import _
from finserv.core import review
from finserv.core.review.chains import ReviewError
from plone import api
from plone.protect.interfaces import IDisableCSRFProtection
from plone.restapi.batching import HypermediaBatch
from plone.restapi.deserializer import json_body
from plone.restapi.services import Service
from zope.interface import alsoProvides

import transaction

ERROR_TYPES = {400: "BadRequest", 403: "Forbidden", 409: "Conflict"}


def error(request, status: int, message) -> dict:
    transaction.doom()  # nothing of a refused request is committed
    request.response.setStatus(status)
    return {"type": ERROR_TYPES.get(status, "Error"), "message": review.t(message) if not isinstance(message, str) or hasattr(message, "domain") else message}


def perform(obj, data: dict):
    """Run one action from a REST body or a form; returns (status, body)."""
    action = data.get("action")
    comment = data.get("comment") or ""
    if not isinstance(comment, str):
        raise ReviewError(_("review_error_comment_text", default="审批意见须为文字。"))
    if action == "submit":
        chain = data.get("chain") or None
        if chain is not None and not isinstance(chain, str):
            raise ReviewError(_("review_error_unknown_chain", default="审批流程“${chain}”不存在。", mapping={"chain": str(chain)}))
        return review.submit(obj, chain)
    if action == "withdraw":
        return review.withdraw(obj, comment)
    if action in review.DECISIONS:
        return review.decide(obj, action, comment, ticket=data.get("ticket"))
    raise ReviewError(_("review_error_unknown_action", default="未知的审批操作“${action}”。", mapping={"action": str(action or "")}))


def item_summary(brain, obj=None) -> dict:
    obj = obj if obj is not None else brain.getObject()
    step = review.current_step(obj) or {}
    return {
        "@id": brain.getURL(),
        "UID": brain.UID,
        "title": brain.Title,
        "portal_type": brain.portal_type,
        "applicant": brain.Creator,
        "review_status": review.status(obj),
        "step": {"index": step.get("index"), "title": step.get("title"), "group": step.get("group"), "mode": step.get("mode")},
        "due": step.get("due"),
        "due_local": review.local_time(step.get("due")),
    }


class ReviewGet(Service):
    def reply(self):
        return dict(review.info(self.context), **{"@id": self.context.absolute_url() + "/@review"})


class ReviewPost(Service):
    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        try:
            data = json_body(self.request)
        except Exception:  # noqa: BLE001 - any unreadable body is bad input
            data = None
        if not isinstance(data, dict):
            return error(self.request, 400, _("review_error_body", default="请求格式不正确，请提交 JSON 对象。"))
        try:
            entry = perform(self.context, data)
        except ReviewError as exc:
            return error(self.request, exc.status, exc.message)
        except Unauthorized as exc:
            return error(self.request, 403, str(exc) or review.t(_("review_error_forbidden", default="您无权执行该审批操作。")))
        return dict(review.info(self.context), entry=entry)


class ReviewPendingGet(Service):
    def reply(self):
        brains = review.pending_for()
        batch = HypermediaBatch(self.request, brains)
        result = {
            "@id": batch.canonical_url,
            "items_total": batch.items_total,
            "items": [item_summary(brain) for brain in batch],
        }
        if batch.links:
            result["batching"] = batch.links
        return result


class ReviewChainsGet(Service):
    def reply(self):
        return {"items": review.list_chains()}


class ReviewChainsPost(Service):
    def reply(self):
        alsoProvides(self.request, IDisableCSRFProtection)
        try:
            data = json_body(self.request)
        except Exception:  # noqa: BLE001
            data = None
        try:
            chain = review.save_chain(data, user_id=api.user.get_current().getId())
        except ReviewError as exc:
            return error(self.request, exc.status, exc.message)
        from finserv.core.audit import record

        record("review.chain_saved", target=f"review-chain:{chain['id']}", details={"version": chain["version"]})
        self.request.response.setStatus(201)
        return chain
