"""``@@health`` for the load balancer and ``@@cluster-status`` for administrators."""

from finserv import _
from finserv.core.health import health_info
from Products.Five.browser import BrowserView
from Products.Five.browser.pagetemplatefile import ViewPageTemplateFile
from zope.i18n import translate

import csv
import io
import json
import os
import socket
import urllib.request


def _db_of(context):
    jar = getattr(context, "_p_jar", None)
    if jar is not None:
        return jar.db()
    import Zope2

    return Zope2.DB


class HealthView(BrowserView):
    """``GET /@@health`` (on the Zope root, the site root or any content): JSON, 200 when the
    storage is reachable, 503 when it is not (ZEO server down). Public, loads no object."""

    def __call__(self):
        info = health_info(_db_of(self.context))
        response = self.request.response
        response.setStatus(200 if info["status"] == "ok" else 503)
        response.setHeader("Content-Type", "application/json")
        response.setHeader("Cache-Control", "no-store")
        return json.dumps(info)


def human_size(size):
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024


def human_duration(seconds):
    seconds = int(seconds or 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s"


def cluster_clients():
    """``[(name, url)]`` from FINSERV_CLUSTER_CLIENTS (``client1=http://127.0.0.1:8081,…``),
    written into each client's zope.conf by the cluster configuration. Empty when embedded."""
    clients = []
    for part in os.environ.get("FINSERV_CLUSTER_CLIENTS", "").split(","):
        if "=" in part:
            name, url = part.split("=", 1)
            clients.append((name.strip(), url.strip().rstrip("/")))
    return clients


def fetch_health(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url + "/@@health", timeout=timeout) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:  # 503: the client runs, its storage does not
        try:
            return json.loads(error.read())
        except Exception:
            return {"status": "error", "error": f"HTTP {error.code}"}
    except Exception as error:
        return {"status": "down", "error": str(error) or type(error).__name__}


def haproxy_servers(path=None):
    """What the load balancer thinks of each client (``show stat`` on HAProxy's admin socket)."""
    path = path or os.environ.get("FINSERV_HAPROXY_SOCKET")
    if not path or not os.path.exists(path):
        return {}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(path)
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    except OSError:
        return {}
    text = data.decode("utf-8", "replace").lstrip("# ")
    rows = csv.DictReader(io.StringIO(text))
    return {
        row["svname"]: row
        for row in rows
        if row.get("svname") not in ("FRONTEND", "BACKEND", None)
    }


def queue_length(broker=None, queue="celery", timeout=1.0):
    """``(mode, length)``: mode is "in-process" when no broker is configured."""
    broker = broker if broker is not None else os.environ.get("FINSERV_CELERY_BROKER", "")
    if not broker:
        return "in-process", None
    try:
        import redis

        client = redis.Redis.from_url(broker, socket_timeout=timeout, socket_connect_timeout=timeout)
        return "celery", int(client.llen(queue))
    except Exception as error:
        return "error", str(error) or type(error).__name__


class ClusterStatusView(BrowserView):
    """The administrators' page: each Zope client, the task queue, the storage."""

    template = ViewPageTemplateFile("templates/cluster_status.pt")

    def __call__(self):
        self.request.response.setHeader("Cache-Control", "no-store")
        return self.template()

    def t(self, msg):
        return translate(msg, context=self.request)

    def local(self):
        return health_info(_db_of(self.context))

    def clients(self):
        local = self.local()
        me = os.environ.get("FINSERV_CLIENT_NAME", "embedded")
        configured = cluster_clients() or [(me, "")]
        lb = haproxy_servers()
        rows = []
        for name, url in configured:
            # a client never asks itself over HTTP: with one waitress thread it would wait for
            # the very request that asks
            info = local if name == me else fetch_health(url)
            status = info.get("status")
            label = {
                "ok": _("cluster_status_ok", default="正常"),
                "unavailable": _("cluster_status_unavailable", default="存储不可用"),
                "down": _("cluster_status_down", default="无响应"),
            }.get(status, _("cluster_status_error", default="错误"))
            lb_row = lb.get(name) or {}
            rows.append(
                {
                    "name": name,
                    "url": url or self.t(_("cluster_this_process", default="本进程")),
                    "current": name == me,
                    "ok": status == "ok",
                    "status": self.t(label),
                    "zodb": self.t(
                        _("cluster_zodb_ok", default="已连接")
                        if info.get("zodb") == "ok"
                        else _("cluster_zodb_disconnected", default="已断开")
                    )
                    if "zodb" in info
                    else "—",
                    "pid": info.get("pid", "—"),
                    "uptime": human_duration(info.get("uptime")) if "uptime" in info else "—",
                    "error": info.get("error", ""),
                    "lb": lb_row.get("status", "—"),
                    "lb_sessions": lb_row.get("stot", "—"),
                    "lb_ok": lb_row.get("status", "").startswith("UP"),
                }
            )
        return rows

    def queue(self):
        mode, length = queue_length()
        if mode == "in-process":
            return {"ok": True, "text": self.t(_("cluster_queue_inprocess", default="进程内模式（未配置 Celery 消息代理）"))}
        if mode == "error":
            return {"ok": False, "text": self.t(_("cluster_queue_error", default="无法连接消息代理：${error}", mapping={"error": length}))}
        return {"ok": True, "text": self.t(_("cluster_queue_length", default="${count} 个任务等待执行", mapping={"count": length}))}

    def storage(self):
        info = self.local()
        return {
            "type": info["storage"],
            "size": human_size(info["storage_size"]),
            "ok": info["status"] == "ok",
        }
