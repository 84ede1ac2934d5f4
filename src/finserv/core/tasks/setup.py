from finserv.core.tasks.store import ensure_store


def install_tasks(portal):
    ensure_store(portal)
