"""Install steps of the core mechanisms, called from the finserv profile's post_install.

Each mechanism that needs site state (a PAS plugin, a storage, a registry record) adds one
function to INSTALL_STEPS; each must be idempotent (it runs again on reinstall).
"""

from finserv.core.apikeys.setup import install_apikeys
from finserv.core.audit.setup import install_audit
from finserv.core.documents.setup import install_documents

INSTALL_STEPS = [
    install_audit,  # first, so that what later steps do is audited
    install_documents,
    install_apikeys,
]


def install_core(portal):
    for step in INSTALL_STEPS:
        step(portal)
