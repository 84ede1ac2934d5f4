"""Install step of the audit trail (in finserv.core.setuphandlers.INSTALL_STEPS; idempotent)."""

from finserv.core.audit import PERMISSION
from finserv.core.audit import ensure_store

AUDITOR = "Auditor"
AUDITOR_TITLE = "审计员"
OFFICE_STAFF = "office-staff"
VIEWER_ROLES = ("Manager", "Site Administrator", AUDITOR)


def ensure_auditor_role(portal) -> None:
    if AUDITOR not in portal.validRoles():
        portal._addRole(AUDITOR)
    manager = portal.acl_users.portal_role_manager
    if AUDITOR not in manager.listRoleIds():
        manager.addRole(AUDITOR, title=AUDITOR_TITLE, description="可检索、导出和校验审计日志")


def grant_view_permission(portal) -> None:
    current = {r["name"] for r in portal.rolesOfPermission(PERMISSION) if r["selected"]}
    wanted = current | set(VIEWER_ROLES)
    if wanted != current:
        portal.manage_permission(PERMISSION, sorted(wanted), acquire=False)


def grant_office_staff(portal) -> None:
    """Office staff read the trail: the group gets Auditor on the site root.

    A local role on the portal, because the group is created after the core install steps run
    and its global roles are then set (replacing any given here).
    """
    if AUDITOR not in portal.get_local_roles_for_userid(OFFICE_STAFF):
        portal.manage_addLocalRoles(OFFICE_STAFF, [AUDITOR])


def install_audit(portal) -> None:
    ensure_store(portal)
    ensure_auditor_role(portal)
    grant_view_permission(portal)
    grant_office_staff(portal)
