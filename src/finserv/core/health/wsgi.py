"""Access log with the request duration, for the cluster clients' WSGI pipeline.

In ``zope-zeo.ini``::

    [filter:timing]
    use = call:finserv.core.health.wsgi:timing_filter_factory

One line per request on the ``wsgi`` logger, in the combined log format followed by the
duration in milliseconds and the client name, e.g.::

    127.0.0.1 - admin [25/Nov/2026:10:01:02 +0800] "GET /finserv HTTP/1.1" 200 51234 "-" "curl/8" 57.3ms client1

Responses of 500 and above are also logged at ERROR level on ``finserv.errors``, so error
spikes show up in the event log.
"""

import logging
import os
import time

access_log = logging.getLogger("wsgi")
error_log = logging.getLogger("finserv.errors")


class TimingLogger:
    def __init__(self, app, client=None):
        self.app = app
        self.client = client or os.environ.get("FINSERV_CLIENT_NAME", "-")

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        state = {"status": "-", "bytes": 0}

        def _start_response(status, headers, exc_info=None):
            state["status"] = status.split(" ", 1)[0]
            for name, value in headers:
                if name.lower() == "content-length":
                    state["bytes"] = value
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, _start_response)
        except Exception:
            state["status"] = "500"
            self._log(environ, state, started)
            raise
        return _Closing(result, lambda: self._log(environ, state, started))

    def _log(self, environ, state, started):
        duration = (time.perf_counter() - started) * 1000
        uri = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            uri += "?" + environ["QUERY_STRING"]
        user = environ.get("REMOTE_USER") or "-"
        line = '%s - %s [%s] "%s %s %s" %s %s "%s" "%s" %.1fms %s' % (
            environ.get("HTTP_X_FORWARDED_FOR") or environ.get("REMOTE_ADDR", "-"),
            user,
            time.strftime("%d/%b/%Y:%H:%M:%S %z"),
            environ.get("REQUEST_METHOD"),
            uri,
            environ.get("SERVER_PROTOCOL"),
            state["status"],
            state["bytes"] or "-",
            environ.get("HTTP_REFERER", "-"),
            environ.get("HTTP_USER_AGENT", "-"),
            duration,
            self.client,
        )
        access_log.warning(line)  # the wsgi logger is configured at WARN to the access log
        if str(state["status"]).startswith("5"):
            error_log.error("%s %s -> %s in %.1f ms", environ.get("REQUEST_METHOD"), uri, state["status"], duration)


class _Closing:
    """Iterates the application's result and logs once it is closed (fully sent)."""

    def __init__(self, result, on_close):
        self.result = result
        self.on_close = on_close

    def __iter__(self):
        return iter(self.result)

    def close(self):
        try:
            if hasattr(self.result, "close"):
                self.result.close()
        finally:
            self.on_close()


def timing_filter_factory(global_conf, client=None, **local_conf):
    def _filter(app):
        return TimingLogger(app, client=client)

    return _filter
