"""Install steps of the finserv profile: sections, groups, district zones, home page."""

from pathlib import Path
from finserv.core.codes import SHANGHAI_DISTRICTS
from finserv.core.scope import grant_district
from finserv.core.setuphandlers import install_core
from finserv.core.scope import grant_scope
from finserv.portal.structure import DISTRICT_ZONE
from finserv.portal.structure import GROUPS
from finserv.portal.structure import SECTIONS
from plone import api
from plone.base.interfaces import INonInstallable
from plone.base.interfaces.constrains import ENABLED
from plone.base.interfaces.constrains import ISelectableConstrainTypes
from plone.portlets.constants import CONTEXT_CATEGORY
from plone.portlets.interfaces import ILocalPortletAssignmentManager
from plone.portlets.interfaces import IPortletManager
from zope.component import getMultiAdapter
from zope.component import getUtility
from zope.interface import implementer

import base64


@implementer(INonInstallable)
class HiddenProfiles:
    def getNonInstallableProfiles(self):
        return ["finserv:uninstall", "finserv:demo"]


def _folder(container, id_, title, description, allowed=None, publish=True):
    if id_ in container.objectIds():
        return container[id_]
    folder = api.content.create(container=container, type="Folder", id=id_, title=title, description=description)
    if allowed:
        constraints = ISelectableConstrainTypes(folder)
        constraints.setConstrainTypesMode(ENABLED)
        constraints.setLocallyAllowedTypes(allowed)
        constraints.setImmediatelyAddableTypes(allowed)
    if publish:
        api.content.transition(obj=folder, transition="publish")
    return folder


def ensure_groups():
    for group_id, title, roles in GROUPS:
        if api.group.get(groupname=group_id) is None:
            api.group.create(groupname=group_id, title=title, roles=roles)


def block_navigation_portlet(folder):
    """Sections that fill up with items (news, notices) must not list them all in a
    navigation portlet on every page: measured at 9x the CPU of a page with 10,000 siblings."""
    manager = getUtility(IPortletManager, name="plone.leftcolumn")
    assignable = getMultiAdapter((folder, manager), ILocalPortletAssignmentManager)
    assignable.setBlacklistStatus(CONTEXT_CATEGORY, True)


def ensure_sections(portal):
    for id_, title, description, allowed, layout in SECTIONS:
        folder = _folder(portal, id_, title, description, allowed)
        folder.setLayout(layout)
        if id_ in ("news", "notices"):
            block_navigation_portlet(folder)
    zone_id, zone_title, zone_description = DISTRICT_ZONE
    zone = _folder(portal, zone_id, zone_title, zone_description, ["Folder", "Document", "File"], publish=False)
    grant_scope(zone, "office-staff", ("Reader",))
    grant_scope(zone, "sys-admins", ("Reader", "Contributor", "Editor"))
    for code, name in SHANGHAI_DISTRICTS.items():
        folder = _folder(zone, code, f"{name}专区", f"{name}金融办内部资料。", ["Document", "File", "Folder"], publish=False)
        grant_district(folder, code, ("Reader", "Contributor", "Editor"))


def set_logo():
    """The platform's emblem and name instead of Plone's logo."""
    path = Path(__file__).parent / "browser" / "static" / "logo.svg"
    data = base64.b64encode(path.read_bytes()).decode()
    name = base64.b64encode(b"logo.svg").decode()
    api.portal.set_registry_record("plone.site_logo", f"filenameb64:{name};datab64:{data}".encode())


def materialize_portlet_settings(portal):
    """Create every portlet assignment's settings now. plone.portlets creates them lazily on
    the first page view, so the first anonymous visitor would write to the database (and two
    first visitors would conflict)."""
    from plone.portlets.interfaces import IPortletAssignmentMapping
    from plone.portlets.interfaces import IPortletAssignmentSettings
    from zope.component import getUtilitiesFor

    for name, manager in getUtilitiesFor(IPortletManager):
        for folder in [portal] + [portal[id_] for id_, *_rest in SECTIONS if id_ in portal.objectIds()]:
            mapping = getMultiAdapter((folder, manager), IPortletAssignmentMapping)
            for assignment in mapping.values():
                IPortletAssignmentSettings(assignment)


def post_install(context):
    portal = api.portal.get()
    install_core(portal)
    set_logo()
    materialize_portlet_settings(portal)
    ensure_groups()
    ensure_sections(portal)
    portal.setLayout("finserv-home")
