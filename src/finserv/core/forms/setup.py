"""Install step of forms: collective.easyform's profile, and our field types in its editor."""

from finserv.core.forms.fields import FIELD_TYPES

EASYFORM_PROFILE = "profile-collective.easyform:default"


def install_forms(portal):
    setup_tool = portal.portal_setup
    if setup_tool.getLastVersionForProfile("collective.easyform:default") == "unknown":
        setup_tool.runAllImportStepsFromProfile(EASYFORM_PROFILE)
    from plone.registry.interfaces import IRegistry
    from zope.component import getUtility

    registry = getUtility(IRegistry)
    record = registry.records.get("easyform.allowedFields")
    if record is not None:
        allowed = list(record.value or [])
        missing = [name for name in FIELD_TYPES if name not in allowed]
        if missing:
            record.value = allowed + missing
