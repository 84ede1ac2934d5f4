"""A small closed-loop HTTP load driver: N client threads, each with its own keep-alive session.

Every client sends its next request as soon as the previous one is answered (and its body read),
until the deadline; every request is timed. Paired scenarios are interleaved (A, B, A, B, ...)
so that noise from other processes on the machine falls on both sides alike.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from dataclasses import field

import requests


@dataclass
class Result:
    name: str
    clients: int
    latencies: list = field(default_factory=list)  # seconds, successful requests only
    errors: int = 0
    error_samples: list = field(default_factory=list)
    wall: float = 0.0
    bytes: int = 0
    server_cpu: float = 0.0  # seconds of CPU the server process used during the run
    per_url: dict = field(default_factory=dict)  # url index -> [latencies]

    @property
    def count(self):
        return len(self.latencies) + self.errors

    def pct(self, q):
        return percentile(self.latencies, q)

    @property
    def rps(self):
        return self.count / self.wall if self.wall else 0.0

    def row(self):
        ok = len(self.latencies)
        return {
            "scenario": self.name, "clients": self.clients, "requests": self.count,
            "req_s": round(self.rps, 1),
            "p50_ms": ms(self.pct(50)), "p90_ms": ms(self.pct(90)), "p99_ms": ms(self.pct(99)),
            "max_ms": ms(max(self.latencies) if self.latencies else None),
            "mean_ms": ms(sum(self.latencies) / ok if ok else None),
            "errors": self.errors,
            "kb_per_response": round(self.bytes / ok / 1024, 1) if ok else None,
            "server_cpu_ms_per_req": round(1000 * self.server_cpu / self.count, 1) if self.count else None,
        }

    def merge(self, other):
        self.latencies += other.latencies
        self.errors += other.errors
        self.error_samples += other.error_samples[: max(0, 5 - len(self.error_samples))]
        self.wall += other.wall
        self.bytes += other.bytes
        self.server_cpu += other.server_cpu
        for k, v in other.per_url.items():
            self.per_url.setdefault(k, []).extend(v)


class Phase:
    """``with Phase("build", phases, log):`` — logs the start and end and records the seconds."""

    def __init__(self, name, phases, log):
        self.name, self.phases, self.log = name, phases, log

    def __enter__(self):
        self.t0 = time.time()
        self.log(f"== {self.name}")

    def __exit__(self, *exc):
        self.phases[self.name] = time.time() - self.t0
        self.log(f"== {self.name}: {self.phases[self.name]:.1f}s")


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of ``values``; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


class ServerCPU:
    """CPU seconds (user + system) a process has used so far, from /proc."""

    def __init__(self, pid):
        self.pid = pid
        import os

        self.tick = os.sysconf("SC_CLK_TCK")

    def __call__(self):
        if not self.pid:
            return 0.0
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self.tick
        except OSError:
            return 0.0

    def memory(self):
        out = {}
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(("VmRSS", "VmHWM")):
                        key, value = line.split(":")
                        out[key] = int(value.split()[0]) // 1024  # MiB
        except OSError:
            pass
        return out


def run(name, urls, clients, seconds, headers=None, cpu=None, timeout=60):
    """Run ``clients`` closed-loop clients over ``urls`` (cycled) for ``seconds``; a Result."""
    result = Result(name, clients)
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index):
        session = requests.Session()
        session.headers.update(headers or {})
        local, per_url, errors, samples, nbytes = [], {}, 0, [], 0
        k = index
        start_gate.wait()
        while True:
            url_index = k % len(urls)
            k += clients
            t0 = time.perf_counter()
            if t0 >= deadline[0]:
                break
            try:
                response = session.get(urls[url_index], timeout=timeout)
                body = response.content
                elapsed = time.perf_counter() - t0
                if response.status_code == 200:
                    local.append(elapsed)
                    per_url.setdefault(url_index, []).append(elapsed)
                    nbytes += len(body)
                else:
                    errors += 1
                    if len(samples) < 3:
                        samples.append(f"HTTP {response.status_code} {urls[url_index]}")
            except requests.RequestException as error:
                errors += 1
                if len(samples) < 3:
                    samples.append(f"{type(error).__name__} {urls[url_index]}")
        session.close()
        with lock:
            result.latencies += local
            result.errors += errors
            result.error_samples += samples[: max(0, 5 - len(result.error_samples))]
            result.bytes += nbytes
            for key, values in per_url.items():
                result.per_url.setdefault(key, []).extend(values)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    cpu0 = cpu() if cpu else 0.0
    t0 = time.perf_counter()
    deadline[0] = t0 + seconds
    start_gate.wait()
    for t in threads:
        t.join()
    result.wall = time.perf_counter() - t0
    result.server_cpu = (cpu() - cpu0) if cpu else 0.0
    return result


def interleaved(specs, clients, seconds, rounds=2, cpu=None):
    """Run each (name, urls, headers) spec for ``seconds`` in total, alternating in ``rounds``."""
    merged = {}
    for _ in range(rounds):
        for name, urls, headers in specs:
            part = run(name, urls, clients, seconds / rounds, headers, cpu)
            if name in merged:
                merged[name].merge(part)
            else:
                merged[name] = part
    return [merged[name] for name, _urls, _headers in specs]


def warm(urls, headers=None, timeout=120):
    """Request every url once (sequentially); returns the statuses seen."""
    session = requests.Session()
    session.headers.update(headers or {})
    statuses = {}
    for url in urls:
        try:
            status = session.get(url, timeout=timeout).status_code
        except requests.RequestException as error:
            status = type(error).__name__
        statuses[status] = statuses.get(status, 0) + 1
    session.close()
    return statuses
