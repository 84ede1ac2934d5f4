"""Review chains: defined by site managers, versioned, stored in a portal annotation.

A chain is stored as the list of its versions; each version is a plain dict::

    {"id": "forum-registration", "version": 2, "title": "论坛报名审核",
     "steps": [{"title": "预审", "group": "office-staff", "mode": "any",
                "deadline_days": 3, "return_to": "applicant"}, ...],
     "created": "2024-06-18T02:00:00+00:00", "created_by": "admin"}

Saving a chain whose title or steps differ from its latest version appends a new version;
items in review keep the version they were submitted with (see :mod:`.state`).
"""

from __future__ import annotations

import copy
import datetime
import re

from BTrees.OOBTree import OOBTree
from finserv import _
from persistent import Persistent
from persistent.list import PersistentList
from zope.annotation.interfaces import IAnnotations
from zope.component.hooks import getSite

ANNOTATION_KEY = "finserv.review.chains"
MODES = ("any", "all")  # 或签: any one member decides; 会签: every member must approve
RETURN_TO = ("applicant", "previous")
CHAIN_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

MODE_TITLES = {"any": _("review_mode_any", default="或签（任一人审批）"), "all": _("review_mode_all", default="会签（全部成员同意）")}
RETURN_TITLES = {"applicant": _("review_return_applicant", default="退回申请人"), "previous": _("review_return_previous", default="退回上一环节")}


class ReviewError(ValueError):
    """Bad input or a refused action; ``message`` is a translatable Chinese text,
    ``status`` the HTTP status a REST client gets (400 bad input, 409 stale decision)."""

    def __init__(self, message, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class ChainRegistry(Persistent):
    def __init__(self):
        self.chains = OOBTree()  # chain id → PersistentList of version dicts, oldest first


def get_registry(portal=None, create: bool = False) -> ChainRegistry | None:
    portal = portal if portal is not None else getSite()
    if portal is None:
        return None
    annotations = IAnnotations(portal)
    registry = annotations.get(ANNOTATION_KEY)
    if registry is None and create:
        registry = annotations[ANNOTATION_KEY] = ChainRegistry()
    return registry


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _group_exists(group_id: str) -> bool:
    from plone import api

    return api.group.get(groupname=group_id) is not None


def validate_chain(data: dict) -> dict:
    """Normalise a chain definition (id, title, steps) or raise ReviewError in Chinese."""
    if not isinstance(data, dict):
        raise ReviewError(_("review_error_chain_body", default="审批流程定义格式不正确。"))
    chain_id = str(data.get("id") or "").strip()
    if not CHAIN_ID.match(chain_id):
        raise ReviewError(_("review_error_chain_id", default="流程编号只能使用小写字母、数字、短横线和下划线（最多 64 个字符）。"))
    title = str(data.get("title") or "").strip()
    if not title:
        raise ReviewError(_("review_error_chain_title", default="请填写流程名称。"))
    steps_in = data.get("steps")
    if not isinstance(steps_in, list) or not steps_in:
        raise ReviewError(_("review_error_no_steps", default="审批流程至少需要一个审批环节。"))
    steps = []
    for number, raw in enumerate(steps_in, start=1):
        if not isinstance(raw, dict):
            raise ReviewError(_("review_error_step_body", default="第 ${n} 个环节格式不正确。", mapping={"n": number}))
        step_title = str(raw.get("title") or "").strip()
        if not step_title:
            raise ReviewError(_("review_error_step_title", default="请填写第 ${n} 个环节的名称。", mapping={"n": number}))
        group = str(raw.get("group") or "").strip()
        if not group or not _group_exists(group):
            raise ReviewError(_("review_error_step_group", default="第 ${n} 个环节的审批用户组“${group}”不存在。", mapping={"n": number, "group": group}))
        mode = str(raw.get("mode") or "any").strip()
        if mode not in MODES:
            raise ReviewError(_("review_error_step_mode", default="第 ${n} 个环节的审批方式须为或签（any）或会签（all）。", mapping={"n": number}))
        deadline = raw.get("deadline_days")
        if deadline in (None, ""):
            deadline = None
        else:
            try:
                deadline = int(deadline)
            except (TypeError, ValueError):
                deadline = -1
            if not 1 <= deadline <= 365:
                raise ReviewError(_("review_error_step_deadline", default="第 ${n} 个环节的办理时限须为 1 到 365 天，或留空表示不限。", mapping={"n": number}))
        return_to = str(raw.get("return_to") or "applicant").strip()
        if return_to not in RETURN_TO:
            raise ReviewError(_("review_error_step_return", default="第 ${n} 个环节的退回方式须为退回申请人（applicant）或退回上一环节（previous）。", mapping={"n": number}))
        steps.append({"title": step_title, "group": group, "mode": mode, "deadline_days": deadline, "return_to": return_to})
    return {"id": chain_id, "title": title, "steps": steps}


def save_chain(data: dict, portal=None, user_id: str = "") -> dict:
    """Create a chain or add a new version of it (only if something changed); returns the
    version now in force."""
    chain = validate_chain(data)
    registry = get_registry(portal, create=True)
    versions = registry.chains.get(chain["id"])
    if versions is None:
        versions = registry.chains[chain["id"]] = PersistentList()
    elif versions[-1]["title"] == chain["title"] and versions[-1]["steps"] == chain["steps"]:
        return copy.deepcopy(versions[-1])
    chain.update(version=len(versions) + 1, created=_now(), created_by=user_id)
    versions.append(chain)
    return copy.deepcopy(chain)


def get_chain(chain_id: str, version: int | None = None, portal=None) -> dict | None:
    """A copy of version *version* of the chain (the latest if None), or None."""
    registry = get_registry(portal)
    versions = registry.chains.get(chain_id) if registry is not None and isinstance(chain_id, str) else None
    if not versions:
        return None
    if version is None:
        return copy.deepcopy(versions[-1])
    if 1 <= version <= len(versions):
        return copy.deepcopy(versions[version - 1])
    return None


def list_chains(portal=None) -> list[dict]:
    """The latest version of every chain, with ``versions`` (how many there are)."""
    registry = get_registry(portal)
    if registry is None:
        return []
    result = []
    for chain_id, versions in registry.chains.items():
        latest = copy.deepcopy(versions[-1])
        latest["versions"] = len(versions)
        result.append(latest)
    return result
