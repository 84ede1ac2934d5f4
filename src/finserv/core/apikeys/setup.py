"""Install the API-key PAS plugin: first extractor, an authenticator, nothing else."""

from finserv.core.apikeys.plugin import ApiKeyPlugin
from finserv.core.apikeys.plugin import PLUGIN_ID
from Products.PluggableAuthService.interfaces.plugins import IAuthenticationPlugin
from Products.PluggableAuthService.interfaces.plugins import IExtractionPlugin


def install_apikeys(portal):
    acl_users = portal.acl_users
    if acl_users._getOb(PLUGIN_ID, None) is None:
        acl_users._setObject(PLUGIN_ID, ApiKeyPlugin(PLUGIN_ID))
    plugins = acl_users.plugins
    for iface in (IExtractionPlugin, IAuthenticationPlugin):
        if PLUGIN_ID not in [pid for pid, _ in plugins.listPlugins(iface)]:
            plugins.activatePlugin(iface, PLUGIN_ID)
    while [pid for pid, _ in plugins.listPlugins(IExtractionPlugin)].index(PLUGIN_ID) > 0:
        plugins.movePluginsUp(IExtractionPlugin, [PLUGIN_ID])
    portal.manage_permission("finserv: Manage API keys", ["Manager", "Site Administrator"], acquire=False)
