"""review: configurable multi-step approval chains (依次审批, 或签 / 会签, 退回, 驳回, 撤回).

Usage from a module::

    from finserv.core import review
    review.submit(obj, "forum-registration")          # the applicant
    review.decide(obj, "approve")                     # a member of the current step's group
    review.decide(obj, "return", comment="请补充营业执照")
    review.withdraw(obj)                              # the applicant, while in review
    review.pending_for(user)                          # catalog brains waiting for the user
    review.history(obj)
    review.overdue(now)                               # items past their step's deadline

Chains (:mod:`.chains`) are defined at ``@@review-chains`` / ``@review-chains`` and versioned;
an item keeps the chain version it was first submitted with until it leaves review
(approved, rejected, withdrawn). The item's state lives in an annotation (:mod:`.state`).

Rules chosen:

* Only members of the current step's group decide, and never the applicant on their own item.
* 或签 (``any``): the first approval completes the step. 会签 (``all``): the step completes when
  every current member of the group has approved; one return or reject by any member ends it.
* Return (comment required) goes back to the applicant (status ``returned``) or, if the step
  says ``previous``, to the previous step (the first step returns to the applicant). When the
  applicant resubmits, review **resumes at the step that returned it**: earlier approvals stand.
* Reject (comment required) is final. A withdrawn item may be submitted again; that starts a new
  run on the chain's latest version.
* A decision names the ``ticket`` of the step visit it was made on (the REST GET and the page
  give it); once the item has left that visit, the decision is refused (409).
* While the item is at a step, the step's group holds the local roles Reviewer and Reader on it
  (Reader so that private items are visible under any workflow); both go when the step is left.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo

from AccessControl import Unauthorized
from finserv import _
from finserv.core.review import notifications  # noqa: F401 - registers the e-mail templates
from finserv.core.review.chains import get_chain
from finserv.core.review.chains import list_chains
from finserv.core.review.chains import ReviewError
from finserv.core.review.chains import save_chain
from finserv.core.review.interfaces import IReviewable
from finserv.core.review.interfaces import IReviewDecisionEvent
from finserv.core.review.interfaces import ReviewDecisionEvent
from persistent.list import PersistentList
from persistent.mapping import PersistentMapping
from plone import api
from zope.annotation.interfaces import IAnnotations
from zope.event import notify
from zope.globalrequest import getRequest
from zope.i18n import translate

__all__ = [
    "DECISIONS",
    "IReviewDecisionEvent",
    "IReviewable",
    "ReviewDecisionEvent",
    "ReviewError",
    "allowed_actions",
    "decide",
    "get_chain",
    "history",
    "info",
    "list_chains",
    "overdue",
    "pending_for",
    "save_chain",
    "status",
    "submit",
    "withdraw",
]

logger = logging.getLogger("finserv.review")

STATE_KEY = "finserv.review.state"
DECISIONS = ("approve", "return", "reject")
ACTIONS = ("submit", "withdraw") + DECISIONS
STATUSES = ("draft", "in_review", "returned", "approved", "rejected", "withdrawn")
STEP_ROLES = ("Reviewer", "Reader")
INDEXES = ("review_status", "review_pending_groups", "review_due")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

STATUS_TITLES = {
    "draft": _("review_status_draft", default="未提交"),
    "in_review": _("review_status_in_review", default="审批中"),
    "returned": _("review_status_returned", default="已退回修改"),
    "approved": _("review_status_approved", default="已通过"),
    "rejected": _("review_status_rejected", default="未通过"),
    "withdrawn": _("review_status_withdrawn", default="已撤回"),
}
DECISION_TITLES = {
    "submit": _("review_decision_submit", default="提交审批"),
    "resubmit": _("review_decision_resubmit", default="修改后重新提交"),
    "approve": _("review_decision_approve", default="同意"),
    "return": _("review_decision_return", default="退回修改"),
    "reject": _("review_decision_reject", default="驳回（不予通过）"),
    "withdraw": _("review_decision_withdraw", default="撤回申请"),
}


MODE_SHORT = {"any": _("review_mode_any_short", default="或签"), "all": _("review_mode_all_short", default="会签")}


def t(message) -> str:
    return translate(message, context=getRequest(), target_language="zh_CN") if message is not None else ""


# --- state -----------------------------------------------------------------------------------


def _state(obj, create: bool = False):
    annotations = IAnnotations(obj)
    state = annotations.get(STATE_KEY)
    if state is None and create:
        state = annotations[STATE_KEY] = PersistentMapping(
            status="draft", chain_id=None, chain_version=None, step=None, ticket=0,
            step_started=None, approvals=PersistentList(), history=PersistentList(), granted=PersistentMapping(),
        )
    return state


def status(obj) -> str:
    state = _state(obj)
    return state["status"] if state else "draft"


def history(obj) -> list[dict]:
    """The item's review history, oldest first (copies)."""
    state = _state(obj)
    return [dict(entry) for entry in state["history"]] if state else []


def current_step(obj) -> dict | None:
    """The chain step the item waits at (with ``index`` and ``due``), or None."""
    state = _state(obj)
    if not state or state["status"] != "in_review":
        return None
    chain = get_chain(state["chain_id"], state["chain_version"])
    step = dict(chain["steps"][state["step"]], index=state["step"])
    step["due"] = _due(state, step)
    return step


def _due(state, step) -> str | None:
    if not step.get("deadline_days") or not state.get("step_started"):
        return None
    started = datetime.datetime.fromisoformat(state["step_started"])
    return (started + datetime.timedelta(days=step["deadline_days"])).isoformat(timespec="seconds")


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def local_time(iso: str | None) -> str:
    """A stored UTC time as Shanghai wall time (``2024-06-18 10:00``)."""
    if not iso:
        return ""
    return datetime.datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


# --- who -------------------------------------------------------------------------------------


def _user_id(user=None) -> str:
    user = user if user is not None else api.user.get_current()
    return user.getId() if user is not None else ""


def _groups_of(user) -> set[str]:
    if user is None:
        return set()
    try:
        return set(user.getGroups() or ())
    except AttributeError:
        return set()


def applicant_id(obj) -> str:
    return obj.Creator() or ""


def is_applicant(obj, user=None) -> bool:
    user = user if user is not None else api.user.get_current()
    user_id = _user_id(user)
    if not user_id or api.user.is_anonymous():
        return False
    return user_id == applicant_id(obj) or "Owner" in api.user.get_roles(user=user, obj=obj)


def _group_members(group_id: str) -> set[str]:
    return {u.getId() for u in api.user.get_users(groupname=group_id)}


# --- local roles and catalog -----------------------------------------------------------------


def _grant(obj, state, group_id: str) -> None:
    existing = set(obj.get_local_roles_for_userid(group_id))
    added = [r for r in STEP_ROLES if r not in existing]
    if added:
        obj.manage_setLocalRoles(group_id, sorted(existing | set(added)))
    state["granted"][group_id] = added


def _revoke_all(obj, state) -> None:
    for group_id, added in list(state["granted"].items()):
        remaining = [r for r in obj.get_local_roles_for_userid(group_id) if r not in added]
        if remaining:
            obj.manage_setLocalRoles(group_id, remaining)
        else:
            obj.manage_delLocalRoles([group_id])
    state["granted"].clear()


def _enter_step(obj, state, chain, index: int) -> None:
    _revoke_all(obj, state)
    state["step"] = index
    state["ticket"] = state.get("ticket", 0) + 1
    state["step_started"] = _utcnow().isoformat()
    state["approvals"] = PersistentList()
    state["status"] = "in_review"
    _grant(obj, state, chain["steps"][index]["group"])


def _leave_review(obj, state, new_status: str) -> None:
    _revoke_all(obj, state)
    state["status"] = new_status
    state["approvals"] = PersistentList()
    state["step_started"] = None


def _forget_cached_roles(obj) -> None:
    """borg.localrole caches local-role checks on the request; after changing local roles,
    later checks in the same request (an event subscriber, the answer's allowed actions)
    must see the new roles."""
    request = getattr(obj, "REQUEST", None)
    if request is None or isinstance(request, str):
        return
    try:
        annotations = IAnnotations(request)
    except TypeError:
        return
    for key in [k for k in list(annotations.keys()) if isinstance(k, str) and k.startswith("borg.localrole")]:
        del annotations[key]


def _reindex(obj) -> None:
    _forget_cached_roles(obj)
    obj.reindexObjectSecurity()
    obj.reindexObject(idxs=list(INDEXES))


# --- actions ---------------------------------------------------------------------------------


def _check_reviewable(obj) -> None:
    if not IReviewable.providedBy(obj):
        raise ReviewError(_("review_error_not_reviewable", default="该类内容未启用审批流程。"))


def _step_dict(chain, index):
    if chain is None or index is None:
        return None
    return dict(chain["steps"][index], index=index)


def _log(state, action, chain, index, comment, actor) -> dict:
    now = _utcnow()
    member = api.user.get(userid=actor) if actor else None
    step = chain["steps"][index] if chain is not None and index is not None else None
    entry = {
        "time": now.isoformat(),
        "time_local": local_time(now.isoformat()),
        "actor": actor,
        "actor_name": (member.getProperty("fullname") if member is not None else "") or actor,
        "action": action,
        "step": index,
        "step_title": step["title"] if step else "",
        "comment": comment,
        "chain_id": state["chain_id"],
        "chain_version": state["chain_version"],
        "status": state["status"],
    }
    state["history"].append(entry)
    return entry


def _after(obj, state, action, chain, index, comment, entry) -> None:
    """Audit, event and notifications of one action (already logged in the history)."""
    from finserv.core.audit import record

    step = _step_dict(chain, index)
    record(
        "review.decision" if action in DECISIONS else f"review.{action}",
        target="/".join(obj.getPhysicalPath()),
        details={
            "decision": entry["action"], "chain": state["chain_id"], "version": state["chain_version"],
            "step": index, "step_title": entry["step_title"], "status": state["status"], "comment": comment,
        },
    )
    _reindex(obj)
    notify(ReviewDecisionEvent(obj, action, step, status=state["status"], comment=comment, actor=entry["actor"]))
    if action != "withdraw":
        _mail_applicant(obj, state, entry)
    if state["status"] == "in_review" and (action in ("submit", "resubmit") or state["step"] != index):
        _mail_reviewers(obj, state, chain)


def _mail_applicant(obj, state, entry) -> None:
    from finserv.core import notify as notify_mod

    member = api.user.get(userid=applicant_id(obj))
    email = member.getProperty("email") if member is not None else ""
    if not email:
        logger.info("review: applicant of %s has no e-mail address, not notified", obj.absolute_url_path())
        return
    notify_mod.send(
        "email", email, "email_review_decision",
        fullname=member.getProperty("fullname") or member.getId(), title=obj.Title(),
        decision_title=t(DECISION_TITLES.get(entry["action"])), step_title=entry["step_title"] or "—",
        actor_name=entry["actor_name"], time=entry["time_local"], status_title=t(STATUS_TITLES[state["status"]]),
        comment=entry["comment"] or "—", url=obj.absolute_url() + "/@@review",
    )


def _mail_reviewers(obj, state, chain) -> None:
    from finserv.core import notify as notify_mod

    step = chain["steps"][state["step"]]
    due = _due(state, step)
    for user_id in sorted(_group_members(step["group"])):
        member = api.user.get(userid=user_id)
        email = member.getProperty("email") if member is not None else ""
        if email and user_id != applicant_id(obj):
            notify_mod.send(
                "email", email, "email_review_task", fullname=member.getProperty("fullname") or user_id,
                title=obj.Title(), step_title=step["title"], url=obj.absolute_url() + "/@@review",
                due_text=f"（请于 {local_time(due)} 前办理）" if due else "",
            )


def submit(obj, chain_id: str | None = None) -> dict:
    """Submit (or, after a return, resubmit) *obj* for review by the applicant.

    Returns the history entry. Raises ReviewError (bad chain, wrong status) or Unauthorized.
    """
    _check_reviewable(obj)
    if not is_applicant(obj):
        raise Unauthorized(t(_("review_error_not_applicant", default="只有申请人可以提交或撤回审批。")))
    state = _state(obj)
    current = state["status"] if state else "draft"
    if current == "in_review":
        raise ReviewError(_("review_error_already", default="该事项已在审批中，请勿重复提交。"), status=409)
    if current in ("approved", "rejected"):
        raise ReviewError(_("review_error_finished", default="该事项的审批已经结束，不能再提交。"), status=409)
    if current == "returned":
        if chain_id and chain_id != state["chain_id"]:
            raise ReviewError(_("review_error_other_chain", default="退回修改的事项须按原审批流程重新提交。"))
        chain = get_chain(state["chain_id"], state["chain_version"])
        action, index = "resubmit", state["step"]
    else:
        chain = get_chain(chain_id) if chain_id else None
        if chain is None:
            raise ReviewError(_("review_error_unknown_chain", default="审批流程“${chain}”不存在。", mapping={"chain": chain_id or ""}))
        state = _state(obj, create=True)
        state["chain_id"], state["chain_version"] = chain["id"], chain["version"]
        action, index = "submit", 0
    _enter_step(obj, state, chain, index)
    entry = _log(state, action, chain, index, "", _user_id())
    _after(obj, state, "resubmit" if action == "resubmit" else "submit", chain, index, "", entry)
    return entry


def withdraw(obj, comment: str = "") -> dict:
    """The applicant withdraws an item in review (or one returned to them)."""
    _check_reviewable(obj)
    if not is_applicant(obj):
        raise Unauthorized(t(_("review_error_not_applicant", default="只有申请人可以提交或撤回审批。")))
    state = _state(obj)
    if not state or state["status"] not in ("in_review", "returned"):
        raise ReviewError(_("review_error_not_withdrawable", default="只有审批中或退回修改的事项可以撤回。"), status=409)
    chain = get_chain(state["chain_id"], state["chain_version"])
    index = state["step"]
    _leave_review(obj, state, "withdrawn")
    entry = _log(state, "withdraw", chain, index, (comment or "").strip(), _user_id())
    _after(obj, state, "withdraw", chain, index, entry["comment"], entry)
    return entry


def may_decide(obj, user=None) -> bool:
    state = _state(obj)
    if not state or state["status"] != "in_review":
        return False
    user = user if user is not None else api.user.get_current()
    chain = get_chain(state["chain_id"], state["chain_version"])
    group = chain["steps"][state["step"]]["group"]
    return group in _groups_of(user) and _user_id(user) != applicant_id(obj) and _user_id(user) not in state["approvals"]


def decide(obj, decision: str, comment: str = "", ticket: int | None = None) -> dict:
    """Approve, return or reject *obj* at its current step as the current user.

    *ticket* (optional) is the step visit the decision was made on (``info(obj)["ticket"]``);
    if the item has left it since, the decision is refused. Returns the history entry.
    """
    _check_reviewable(obj)
    if decision not in DECISIONS:
        raise ReviewError(_("review_error_unknown_action", default="未知的审批操作“${action}”。", mapping={"action": str(decision)}))
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    state = _state(obj)
    if not state or state["status"] != "in_review":
        raise ReviewError(_("review_error_not_in_review", default="该事项当前不在审批中，不能审批。"), status=409)
    if ticket not in (None, "") and str(ticket) != str(state["ticket"]):
        raise ReviewError(_("review_error_stale", default="该事项已离开您审批的环节，本次操作未生效，请刷新后查看。"), status=409)
    chain = get_chain(state["chain_id"], state["chain_version"])
    index = state["step"]
    step = chain["steps"][index]
    user = api.user.get_current()
    user_id = _user_id(user)
    if step["group"] not in _groups_of(user):
        raise Unauthorized(t(_("review_error_not_reviewer", default="您不是“${step}”环节的审批人，不能审批该事项。", mapping={"step": step["title"]})))
    if user_id == applicant_id(obj):
        raise Unauthorized(t(_("review_error_own_item", default="不能审批本人提交的事项。")))
    if user_id in state["approvals"]:
        raise ReviewError(_("review_error_already_approved", default="您已在本环节同意，请等待其他审批人。"), status=409)
    if decision in ("return", "reject") and not comment:
        raise ReviewError(_("review_error_comment_required", default="退回或驳回时必须填写审批意见。"))

    if decision == "approve":
        state["approvals"].append(user_id)
        done = step["mode"] == "any" or _group_members(step["group"]) <= set(state["approvals"])
        if done and index + 1 < len(chain["steps"]):
            _enter_step(obj, state, chain, index + 1)
        elif done:
            _leave_review(obj, state, "approved")
    elif decision == "return":
        if step["return_to"] == "previous" and index > 0:
            _enter_step(obj, state, chain, index - 1)
        else:
            _leave_review(obj, state, "returned")
            state["step"] = index  # resubmission resumes here
    else:
        _leave_review(obj, state, "rejected")
    entry = _log(state, decision, chain, index, comment, user_id)
    _after(obj, state, decision, chain, index, comment, entry)
    return entry


def allowed_actions(obj, user=None) -> list[str]:
    """What *user* (the current user by default) may do on *obj* now."""
    if not IReviewable.providedBy(obj):
        return []
    current = status(obj)
    actions = []
    if is_applicant(obj, user):
        if current in ("draft", "withdrawn", "returned"):
            actions.append("submit")
        if current in ("in_review", "returned"):
            actions.append("withdraw")
    if may_decide(obj, user):
        actions.extend(DECISIONS)
    return actions


def info(obj, user=None) -> dict:
    """Everything a client shows: status, chain, current step, history, allowed actions."""
    state = _state(obj)
    current = status(obj)
    chain = get_chain(state["chain_id"], state["chain_version"]) if state and state["chain_id"] else None
    step = current_step(obj)
    if step is not None:
        step["mode_title"] = t(MODE_SHORT[step["mode"]])
        step["due_local"] = local_time(step["due"])
        step["approvals"] = list(state["approvals"])
        if step["mode"] == "all":
            step["waiting_for"] = sorted(_group_members(step["group"]) - set(state["approvals"]))
    return {
        "status": current,
        "status_title": t(STATUS_TITLES[current]),
        "chain": {"id": chain["id"], "version": chain["version"], "title": chain["title"], "steps": [s["title"] for s in chain["steps"]]} if chain else None,
        "step": step,
        "ticket": state["ticket"] if state else 0,
        "history": [dict(h, action_title=t(DECISION_TITLES.get(h["action"]))) for h in history(obj)],
        "actions": allowed_actions(obj, user),
    }


# --- queries ---------------------------------------------------------------------------------


def pending_for(user=None, **query):
    """Catalog brains of items waiting at a step of one of the user's groups, oldest step first.

    The query runs as *user*, so Plone's security filters it; items the user applied for and
    会签 steps the user already approved are left out.
    """
    current = api.user.get_current()
    user = user if user is not None else current
    groups = sorted(_groups_of(user))
    if not groups:
        return []
    catalog = api.portal.get_tool("portal_catalog")
    search = dict(review_status="in_review", review_pending_groups=groups, sort_on="review_due", **query)
    if _user_id(user) == _user_id(current):
        brains = catalog(**search)
    else:
        with api.env.adopt_user(user=user):
            brains = catalog(**search)
    user_id = _user_id(user)
    result = []
    for brain in brains:
        if brain.Creator == user_id:
            continue
        obj = brain._unrestrictedGetObject()
        state = _state(obj)
        if state and user_id in state["approvals"]:
            continue
        result.append(brain)
    return result


def overdue(now: datetime.datetime | None = None) -> list[dict]:
    """Items whose current step has passed its deadline at *now* (UTC if naive), most overdue first.

    Runs unrestricted: it is for reminders and the managers' overview, not for a user's queue.
    """
    from DateTime import DateTime

    now = now or _utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.timezone.utc)
    catalog = api.portal.get_tool("portal_catalog")
    brains = catalog.unrestrictedSearchResults(
        review_status="in_review", review_due={"query": DateTime(now.timestamp()), "range": "max"}, sort_on="review_due"
    )
    result = []
    for brain in brains:
        obj = brain._unrestrictedGetObject()
        step = current_step(obj)
        if step is None or step["due"] is None or datetime.datetime.fromisoformat(step["due"]) > now:
            continue
        result.append({"object": obj, "uid": brain.UID, "path": brain.getPath(), "title": brain.Title, "step": step, "due": step["due"]})
    return result
