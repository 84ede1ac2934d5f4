"""The cluster on free ports in a throwaway directory: a ZEO server, two Zope clients and HAProxy.

Writes through client 1, reads through client 2, kills client 1 in the middle of a request and
shows HAProxy routing around it, restarts the ZEO server and shows the clients reconnect with
the committed data intact. Every process is stopped at the end, also on failure.
"""

from finserv.core.health.cluster import Cluster
from finserv.core.health.cluster import ClusterConfig
from finserv.core.health.views import haproxy_servers

import pytest
import requests
import shutil
import socket
import threading
import time

pytestmark = pytest.mark.cluster

PASSWORD = "cluster-test-Secret-1"
AUTH = ("admin", PASSWORD)
JSON = {"Accept": "application/json", "Content-Type": "application/json"}


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def wait_for(predicate, timeout, interval=0.25, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, monkeypatch_module):
    if not shutil.which("haproxy") and not shutil.which("haproxy", path="/usr/sbin"):
        pytest.skip("haproxy is not installed (make cluster-deps)")
    monkeypatch_module.setenv("ADMIN_PASSWORD", PASSWORD)
    var = tmp_path_factory.mktemp("cluster-var")
    web, lb, stats, zeo, redis, c1, c2 = free_ports(7)
    config = ClusterConfig(
        var=str(var), port=web, lb_port=lb, stats_port=stats, zeo_port=zeo, redis_port=redis,
        client_ports=[c1, c2], cache=False, redis=False, worker=False, check_inter="1s",
    )
    cl = Cluster(config, out=lambda *a: None)
    try:
        cl.start()
        yield cl
    finally:
        cl.stop()
        for name in cl.names():
            assert not cl.alive(name), f"{name} still running"


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def url(port, path=""):
    return f"http://127.0.0.1:{port}{path}"


def lb_state(cl):
    return {name: row.get("status") for name, row in haproxy_servers(str(cl.c.run / "haproxy.sock")).items()}


def test_write_through_one_read_through_other_failover_and_zeo_restart(cluster):
    cl = cluster
    (c1, p1), (c2, p2) = cl.c.clients
    site = f"/{cl.c.site_id}"

    # 1. write through client 1, read through client 2
    answer = requests.post(url(p1, site), json={"@type": "Document", "id": "zeo-doc", "title": "经 ZEO 写入"},
                           headers=JSON, auth=AUTH, timeout=60)
    assert answer.status_code == 201, answer.text
    read = wait_for(lambda: (r := requests.get(url(p2, site + "/zeo-doc"), headers=JSON, auth=AUTH, timeout=30)).ok and r,
                    30, what="client 2 to see the document")
    assert read.json()["title"] == "经 ZEO 写入"
    assert wait_for(lambda: lb_state(cl) == {c1: "UP", c2: "UP"}, 30, what="both clients UP in HAProxy")

    # 2. kill client 1 in the middle of a request
    outcome = {}

    def slow_body():
        yield b'{"@type": "Document", "title": "'
        time.sleep(5)  # the client has the request and waits for the rest of the body
        yield b'never"}'

    def slow_request():
        try:
            r = requests.post(url(p1, site), data=slow_body(), headers=JSON, auth=AUTH, timeout=60)
            outcome["status"] = r.status_code
        except requests.RequestException as error:
            outcome["error"] = error

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.5)
    cl.kill(c1)
    thread.join(60)
    assert "error" in outcome, outcome  # the request in flight died with its process
    # requests keep being served at once: a refused connection is redispatched to client 2
    statuses = [requests.get(url(cl.c.lb_port, site + "/zeo-doc"), headers=JSON, auth=AUTH, timeout=30).status_code
                for _ in range(10)]
    assert statuses == [200] * 10, statuses
    wait_for(lambda: lb_state(cl).get(c1) == "DOWN", 30, what="HAProxy to mark client 1 DOWN")
    served_by = set()
    for _ in range(20):
        r = requests.get(url(cl.c.lb_port, "/@@health"), timeout=10)
        assert r.status_code == 200
        served_by.add(r.json()["client"])
        r = requests.get(url(cl.c.lb_port, site + "/zeo-doc"), headers=JSON, auth=AUTH, timeout=30)
        assert r.status_code == 200 and r.json()["title"] == "经 ZEO 写入"
    assert served_by == {c2}

    # 3. restart the ZEO server: client 2 notices, reconnects, and the data is all there
    cl.stop_process("zeo")
    wait_for(lambda: requests.get(url(p2, "/@@health"), timeout=10).status_code == 503, 30,
             what="client 2 to report the storage disconnected")
    assert requests.get(url(cl.c.lb_port, "/@@health"), timeout=10).status_code == 503  # no healthy client left
    cl.start_zeo()
    wait_for(lambda: requests.get(url(p2, "/@@health"), timeout=10).status_code == 200, 60,
             what="client 2 to reconnect")
    r = wait_for(lambda: (r := requests.get(url(cl.c.lb_port, site + "/zeo-doc"), headers=JSON, auth=AUTH, timeout=60)).ok and r,
                 60, what="the document through the load balancer")
    assert r.json()["title"] == "经 ZEO 写入"

    # 4. client 1 comes back, and a write through the load balancer is seen by both clients
    cl.start_clients()
    wait_for(lambda: lb_state(cl) == {c1: "UP", c2: "UP"}, 60, what="client 1 UP again")
    answer = requests.post(url(cl.c.lb_port, site), json={"@type": "Document", "id": "after-restart", "title": "重启之后"},
                           headers=JSON, auth=AUTH, timeout=60)
    assert answer.status_code == 201, answer.text
    for port in (p1, p2):
        r = wait_for(lambda: (r := requests.get(url(port, site + "/after-restart"), headers=JSON, auth=AUTH, timeout=30)).ok and r,
                     30, what=f"the new document on port {port}")
        assert r.json()["title"] == "重启之后"
        assert requests.get(url(port, site + "/zeo-doc"), headers=JSON, auth=AUTH, timeout=30).ok
