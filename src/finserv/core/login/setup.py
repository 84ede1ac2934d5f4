"""Install step of login security (idempotent; appended to core INSTALL_STEPS).

* registry records ``finserv.login.*`` (config.SETTINGS);
* the ``finserv_login`` PAS plugin, first IAuthenticationPlugin, wrapping ``source_users``
  (which stops being an authenticator) and replacing Plone's ``password_policy`` validator;
* the ``mobile`` member property and field ("手机号码", in the user profile and registration);
* session idle timeout on plone.session and JWT lifetime on plone.restapi's jwt_auth.
"""

from __future__ import annotations

from finserv.core.login.config import register_settings
from finserv.core.login.config import setting
from finserv.core.login.plugin import LoginSecurityPlugin
from finserv.core.login.session import REFRESH_SECONDS
from finserv.core.login.utils import PLUGIN_ID
from finserv.core.login.utils import logger
from plone.registry.interfaces import IRegistry
from Products.PluggableAuthService.interfaces.plugins import IAuthenticationPlugin
from Products.PluggableAuthService.interfaces.plugins import IValidationPlugin
from zope.component import getUtility

MOBILE_FIELD = """<field name="mobile" type="zope.schema.TextLine"
       users:forms="In User Profile|On Registration"
       xmlns:users="http://namespaces.plone.org/supermodel/users">
  <description>用于短信验证码登录、双因素认证和找回密码，仅本人和管理员可见。</description>
  <required>False</required>
  <title>手机号码</title>
</field>"""


def install_login(portal):
    registry = getUtility(IRegistry)
    register_settings(registry)
    # Plone's reset-by-link must not log the user in: that would skip the second factor.
    if registry.get("plone.autologin_after_password_reset"):
        registry["plone.autologin_after_password_reset"] = False
    install_plugin(portal)
    install_mobile_property(portal)
    configure_timeouts(portal)
    install_user_action(portal)


def install_plugin(portal):
    acl_users = portal.acl_users
    plugin = acl_users._getOb(PLUGIN_ID, None)
    if plugin is None:
        acl_users._setObject(PLUGIN_ID, LoginSecurityPlugin(PLUGIN_ID))
        plugin = acl_users._getOb(PLUGIN_ID)
    plugin.ensure_storage()
    registry = acl_users.plugins
    for iface in (IAuthenticationPlugin, IValidationPlugin):
        if PLUGIN_ID not in [pid for pid, _ in registry.listPlugins(iface)]:
            registry.activatePlugin(iface, PLUGIN_ID)
    # first authenticator, and the only one that checks passwords
    ids = [pid for pid, _ in registry.listPlugins(IAuthenticationPlugin)]
    while ids.index(PLUGIN_ID) > 0:
        registry.movePluginsUp(IAuthenticationPlugin, [PLUGIN_ID])
        ids = [pid for pid, _ in registry.listPlugins(IAuthenticationPlugin)]
    for wrapped in plugin.wrapped_ids:
        if wrapped in ids:
            registry.deactivatePlugin(IAuthenticationPlugin, wrapped)
    if "password_policy" in [pid for pid, _ in registry.listPlugins(IValidationPlugin)]:
        registry.deactivatePlugin(IValidationPlugin, "password_policy")


def install_mobile_property(portal):
    memberdata = portal.portal_memberdata
    try:
        from plone.app.users.browser.schemaeditor import applySchema
        from plone.app.users.browser.schemaeditor import get_schema
        from lxml import etree

        xml = get_schema(portal)
        if xml and 'name="mobile"' not in xml:
            root = etree.fromstring(xml.encode("utf-8"))
            schema = root.find("{http://namespaces.plone.org/supermodel/schema}schema")
            field = etree.fromstring(MOBILE_FIELD.replace("<field ", '<field xmlns="http://namespaces.plone.org/supermodel/schema" ', 1))
            schema.append(field)
            applySchema(etree.tostring(root, encoding="unicode"))
    except Exception:  # noqa: BLE001 - the property below is what the login code needs
        logger.exception("could not add the mobile field to the member schema")
    if not memberdata.hasProperty("mobile"):
        memberdata.manage_addProperty("mobile", "", "string")


def configure_timeouts(portal):
    acl_users = portal.acl_users
    session = acl_users._getOb("session", None)
    if session is not None:
        session.manage_changeProperties(
            timeout=int(setting("session_idle_minutes")) * 60,
            refresh_interval=REFRESH_SECONDS,
        )
    jwt = acl_users._getOb("jwt_auth", None)
    if jwt is not None:
        jwt.token_timeout = int(setting("jwt_timeout_minutes")) * 60


def install_user_action(portal):
    """A "双因素认证" entry in the personal menu, next to "Preferences"."""
    from Products.CMFCore.ActionInformation import Action

    category = portal.portal_actions.get("user")
    if category is None or "twofactor" in category.objectIds():
        return
    category._setObject(
        "twofactor",
        Action(
            "twofactor",
            title="双因素认证",
            description="启用或关闭身份验证器（TOTP）",
            url_expr="string:${portal_url}/@@twofactor-settings",
            available_expr="python:member is not None",
            permissions=("Set own password",),
            visible=True,
        ),
    )
    ids = list(category.objectIds())
    if "preferences" in ids:
        category.moveObjectToPosition("twofactor", ids.index("preferences") + 1)
