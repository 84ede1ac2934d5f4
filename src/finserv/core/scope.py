"""Who sees which data: district and organisation scopes through Plone's local roles.

Scoped content is kept in a workflow state that does not grant View to Anonymous or
Authenticated; the scope's group then gets a local role on the object (or the folder it
sits in), so catalog queries are filtered by ``allowedRolesAndUsers`` — never by hand.
"""

from __future__ import annotations

from finserv.core.codes import SHANGHAI_DISTRICTS
from plone import api

DISTRICT_GROUP_PREFIX = "district-"


def district_group_id(code: str) -> str:
    """The id of the group of a district office's staff, e.g. ``district-310115``."""
    if code not in SHANGHAI_DISTRICTS:
        raise ValueError(f"unknown Shanghai district code: {code!r}")
    return DISTRICT_GROUP_PREFIX + code


def grant_scope(obj, group_id: str, roles=("Reader",)) -> None:
    """Let a group's members see (or, with other roles, act on) ``obj`` and what it contains."""
    api.group.grant_roles(groupname=group_id, roles=list(roles), obj=obj)
    obj.reindexObjectSecurity()


def grant_district(obj, code: str, roles=("Reader",)) -> None:
    grant_scope(obj, district_group_id(code), roles)
