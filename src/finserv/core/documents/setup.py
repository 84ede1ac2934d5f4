"""Install step of the documents register (in finserv.core.setuphandlers.INSTALL_STEPS)."""

from finserv.core.documents.registry import get_registry


def install_documents(portal) -> None:
    """Create the register of issued documents on the site root (idempotent)."""
    get_registry(portal, create=True)
