"""Event subscribers that write the audit trail (registered in core/audit.zcml).

| action                  | recorded from                                                   |
|-------------------------|-----------------------------------------------------------------|
| login.success           | PAS IUserLoggedInEvent (the Classic UI login form)              |
| logout                  | PAS IUserLoggedOutEvent                                         |
| workflow.transition     | CMFCore IActionSucceededEvent                                   |
| roles.local_changed     | plone.app.workflow ILocalrolesModifiedEvent (sharing, @sharing) |
| roles.global_changed    | the PlonePAS role manager (no event exists: see below)          |
| group.member_added      | PAS IPrincipalAddedToGroupEvent                                 |
| group.member_removed    | PAS IPrincipalRemovedFromGroupEvent                             |
| group.created / deleted | PAS IGroupCreatedEvent / IGroupDeletedEvent                     |
| user.created / deleted  | PAS IPrincipalCreatedEvent / IPrincipalDeletedEvent             |
| user.password_changed   | PAS ICredentialsUpdatedEvent (never the password)               |
| config.registry_changed | plone.registry IRecordModifiedEvent                             |

Failed logins, lockouts, personal-data exports and field reveals are recorded by the code that
handles them, through :func:`finserv.core.audit.record`.
"""

from __future__ import annotations

import functools
import json
import re

from finserv.core.audit import record

# Registry records that are bookkeeping rather than configuration.
SKIPPED_RECORD_SUFFIXES = (".last_compilation",)
SKIPPED_RECORD_NAMES = frozenset({"plone.resources.last_legacy_import"})
SECRET_NAME = re.compile(r"pass(word)?|secret|token|private|_key$|\.key$|api_?key", re.IGNORECASE)
VALUE_CHARS = 500


def _id(principal) -> str:
    if principal is None:
        return ""
    if isinstance(principal, str):
        return principal
    get_id = getattr(principal, "getId", None)
    return get_id() if get_id is not None else str(principal)


def _path(obj) -> str:
    return "/".join(obj.getPhysicalPath())


# --- logins ------------------------------------------------------------------------------------


def logged_in(event) -> None:
    user = event.principal
    from Products.PlonePAS.interfaces.events import IUserInitialLoginInEvent

    login = getattr(user, "getUserName", lambda: "")()
    record(
        "login.success",
        target=f"user:{_id(user)}",
        details={"login": login, "first_login": IUserInitialLoginInEvent.providedBy(event)},
        actor=_id(user),
    )


def logged_out(event) -> None:
    record("logout", target=f"user:{_id(event.principal)}", actor=_id(event.principal))


# --- users and groups --------------------------------------------------------------------------


def principal_created(event) -> None:
    principal = event.principal
    record("user.created", target=f"user:{_id(principal)}", details={"login": getattr(principal, "getUserName", lambda: "")()})


def principal_deleted(event) -> None:
    record("user.deleted", target=f"user:{_id(event.principal)}")


def credentials_updated(event) -> None:
    record("user.password_changed", target=f"user:{_id(event.principal)}")


def group_created(event) -> None:
    record("group.created", target=f"group:{_id(event.principal)}")


def group_deleted(event) -> None:
    record("group.deleted", target=f"group:{_id(event.principal)}")


def member_added(event) -> None:
    record(
        "group.member_added",
        target=f"group:{event.group_id}",
        details={"principal": _id(event.principal), "group": event.group_id},
    )


def member_removed(event) -> None:
    record(
        "group.member_removed",
        target=f"group:{event.group_id}",
        details={"principal": _id(event.principal), "group": event.group_id},
    )


# --- workflow and local roles ------------------------------------------------------------------


def workflow_transition(obj, event) -> None:
    workflow = getattr(event, "workflow", None)
    wf_id = workflow.getId() if workflow is not None else ""
    history = list((getattr(obj, "workflow_history", None) or {}).get(wf_id, ()))
    current = history[-1] if history else {}
    previous = history[-2] if len(history) > 1 else {}
    details = {
        "transition": event.action,
        "workflow": wf_id,
        "from_state": previous.get("review_state", ""),
        "new_state": current.get("review_state", ""),
        "comment": (current.get("comments") or "")[:VALUE_CHARS],
        "portal_type": getattr(obj, "portal_type", ""),
    }
    uid = getattr(obj, "UID", None)
    if callable(uid):
        details["uid"] = uid()
    record("workflow.transition", target=_path(obj), details=details)


def local_roles_changed(obj, event) -> None:
    from Acquisition import aq_base

    roles = {principal: sorted(r) for principal, r in obj.get_local_roles()}
    record(
        "roles.local_changed",
        target=_path(obj),
        details={
            "local_roles": roles,
            "inherit": not bool(getattr(aq_base(obj), "__ac_local_roles_block__", False)),
        },
    )


# --- global roles ------------------------------------------------------------------------------
# PAS fires no event when global roles change, yet 等保 requires them audited. The three
# methods of the PlonePAS role manager that change them are wrapped, once, at import.


IMPLICIT_ROLES = frozenset({"Authenticated", "Anonymous"})  # stored sometimes, never meaningful


def _record_global(plugin, principal_id, before) -> None:
    before = tuple(r for r in before if r not in IMPLICIT_ROLES)
    after = tuple(r for r in plugin._principal_roles.get(principal_id, ()) if r not in IMPLICIT_ROLES)
    if set(before) != set(after):
        record(
            "roles.global_changed",
            target=f"principal:{principal_id}",
            details={
                "principal": principal_id,
                "old": sorted(before),
                "new": sorted(after),
                "added": sorted(set(after) - set(before)),
                "removed": sorted(set(before) - set(after)),
            },
        )


def _wrap_role_method(cls, name: str, principal_arg: int) -> None:
    original = getattr(cls, name)
    if getattr(original, "_finserv_audited", False):
        return

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        principal_id = args[principal_arg] if len(args) > principal_arg else kwargs.get("principal_id")
        before = tuple(self._principal_roles.get(principal_id, ()))
        result = original(self, *args, **kwargs)
        _record_global(self, principal_id, before)
        return result

    wrapper._finserv_audited = True
    setattr(cls, name, wrapper)


def install_global_role_hook() -> None:
    from Products.PlonePAS.plugins.role import GroupAwareRoleManager

    _wrap_role_method(GroupAwareRoleManager, "assignRolesToPrincipal", 1)  # (roles, principal_id)
    _wrap_role_method(GroupAwareRoleManager, "assignRoleToPrincipal", 1)  # (role_id, principal_id)
    _wrap_role_method(GroupAwareRoleManager, "removeRoleFromPrincipal", 1)  # (role_id, principal_id)


install_global_role_hook()


# --- configuration -----------------------------------------------------------------------------


def _value(name: str, value):
    """A registry value as it goes into the record: JSON, truncated, secrets masked."""
    if value is None:
        return None
    if SECRET_NAME.search(name.rsplit(".", 1)[-1]):
        return "******"
    if isinstance(value, bytes):
        from finserv.core.crypto import sm3_hex

        return f"<{len(value)} bytes, SM3 {sm3_hex(value)[:16]}>"
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=str)
    elif isinstance(value, tuple):
        value = list(value)
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, list) and all(v is None or isinstance(v, (str, int, float, bool)) for v in value):
        if len(json.dumps(value, ensure_ascii=False)) <= VALUE_CHARS:
            return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def registry_changed(event) -> None:
    name = getattr(event.record, "__name__", "") or ""
    if name in SKIPPED_RECORD_NAMES or name.endswith(SKIPPED_RECORD_SUFFIXES):
        return
    if event.oldValue == event.newValue:
        return
    record(
        "config.registry_changed",
        target=f"registry:{name}",
        details={"record": name, "old": _value(name, event.oldValue), "new": _value(name, event.newValue)},
    )
