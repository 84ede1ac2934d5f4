"""The one clock of login security. Tests freeze or advance time by patching :func:`now`."""

import time


def now() -> float:
    """Seconds since the epoch."""
    return time.time()
