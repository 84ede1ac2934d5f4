"""Install steps of the core mechanisms, called from the finserv profile's post_install.

Each mechanism that needs site state (a PAS plugin, a storage, a registry record) adds one
function to INSTALL_STEPS; each must be idempotent (it runs again on reinstall).
"""

from finserv.core.apikeys.setup import install_apikeys
from finserv.core.audit.setup import install_audit
from finserv.core.documents.setup import install_documents
from finserv.core.forms.setup import install_forms
from finserv.core.health.caching import install_caching
from finserv.core.login.setup import install_login
from finserv.core.notify.setup import install_notify
from finserv.core.review.setup import install_review
from finserv.core.tasks.setup import install_tasks

INSTALL_STEPS = [
    install_audit,  # first, so that what later steps do is audited
    install_documents,
    install_notify,
    install_login,  # after notify: login sends its codes through it
    install_apikeys,
    install_tasks,  # the task store (core/tasks)
    install_caching,  # plone.app.caching for the caching proxy (purging set by the cluster)
    install_review,  # review chains registry and the review_* catalog indexes
    install_forms,  # collective.easyform (the form designer) and our field types in its editor
]


def install_core(portal):
    for step in INSTALL_STEPS:
        step(portal)
