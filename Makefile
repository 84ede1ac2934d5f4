# finserv — see README.md. `make start` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
VAR := $(CURDIR)/var
HOST ?= 127.0.0.1
PORT ?= 8080
SITE_ID ?= finserv

.PHONY: help install instance site start test test-fast test-cluster e2e-deps cluster-deps start-cluster stop-cluster cluster-status backup restore pack bench bench-security clean-var audit-verify rotate-keys i18n

help:
	@echo "make start   install everything, create the site with demo data, serve it on http://$(HOST):$(PORT)"
	@echo "make test    run the whole test suite (unit, integration, REST, browser)"
	@echo "make start-cluster / stop-cluster / cluster-status   ZEO + 2 Zope clients + HAProxy + Varnish + Redis + Celery (docs/operations.md)"
	@echo "make backup / restore [DATE=…] / pack [DAYS=7]   repozo backups of Data.fs and blobs into var/backups"
	@echo "make bench   run the benchmarks in benchmarks/ (results in benchmarks/README.md)"

# --- installation ---------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip==26.3"

$(VENV)/.installed: $(BIN)/python constraints.txt pyproject.toml
	$(BIN)/pip install -q -c constraints.txt -e ".[test]"
	touch $@

install: $(VENV)/.installed

# --- Zope instance --------------------------------------------------------

$(VAR)/etc/zope.conf: instance/zope.conf.in
	mkdir -p $(VAR)/etc
	sed -e 's|@VAR@|$(VAR)|g' $< > $@

$(VAR)/etc/zope.ini: instance/zope.ini.in FORCE
	mkdir -p $(VAR)/etc
	sed -e 's|@VAR@|$(VAR)|g' -e 's|@HOST@|$(HOST)|g' -e 's|@PORT@|$(PORT)|g' $< > $@

instance: install $(VAR)/etc/zope.conf $(VAR)/etc/zope.ini
	mkdir -p $(VAR)/log $(VAR)/filestorage $(VAR)/blobstorage $(VAR)/cache

# Creates the Plone site (with demo content) if it does not exist yet; reuses it otherwise.
site: instance
	SITE_ID=$(SITE_ID) FINSERV_VAR=$(VAR) $(BIN)/zconsole run $(VAR)/etc/zope.conf src/finserv/portal/create_site.py

start: site
	@echo ""
	@echo "  finserv is served on http://$(HOST):$(PORT)/$(SITE_ID)"
	@echo "  administrator: admin / $$(cat $(VAR)/admin-password)   (kept in var/admin-password)"
	@echo ""
	$(BIN)/runwsgi $(VAR)/etc/zope.ini

# --- tests ------------------------------------------------------------------

# Debian's chromium drives the browser tests; Noto CJK renders Chinese in screenshots;
# poppler-utils and zbar-tools read generated PDFs and their QR codes back in the tests.
e2e-deps:
	@command -v chromium >/dev/null 2>&1 && command -v pdffonts >/dev/null 2>&1 && command -v zbarimg >/dev/null 2>&1 \
	  && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk gettext poppler-utils zbar-tools >/dev/null; }

test: install e2e-deps cluster-deps
	$(BIN)/python -m pytest -q

# The cluster test alone (also part of `make test`): ZEO, two Zope clients and HAProxy on free ports.
test-cluster: install cluster-deps
	$(BIN)/python -m pytest -q -m cluster tests/cluster

test-fast: install
	$(BIN)/python -m pytest -q -m "not e2e"

# --- cluster (docs/operations.md) --------------------------------------------
# Public entry PORT (Varnish), load balancer LB_PORT (HAProxy, stats on STATS_PORT), Zope clients
# CLIENT_PORTS, ZEO server ZEO_PORT, Redis REDIS_PORT; all on HOST. The cluster serves the same
# var/filestorage/Data.fs as `make start`: it refuses to start while `make start` runs.
LB_PORT ?= 8090
STATS_PORT ?= 8091
ZEO_PORT ?= 8100
REDIS_PORT ?= 6379
CLIENT_PORTS ?= 8081 8082
CLUSTER_ARGS = --var $(VAR) --host $(HOST) --port $(PORT) --lb-port $(LB_PORT) --stats-port $(STATS_PORT) \
	--zeo-port $(ZEO_PORT) --redis-port $(REDIS_PORT) --client-ports "$(CLIENT_PORTS)" --site-id $(SITE_ID)

# HAProxy (load balancer), Varnish (caching proxy) and Redis (Celery broker) from Debian.
cluster-deps:
	@command -v haproxy >/dev/null 2>&1 && command -v varnishd >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy varnish redis-server >/dev/null; }
	@# the Debian packages start system-wide services on the default ports: the cluster runs its own
	@-for s in haproxy varnish redis-server; do systemctl disable --now $$s >/dev/null 2>&1 || service $$s stop >/dev/null 2>&1; done; true

start-cluster: install cluster-deps
	mkdir -p $(VAR)
	$(BIN)/python -m finserv.core.health.cluster start $(CLUSTER_ARGS)
	@echo "  administrator: admin / $$(cat $(VAR)/admin-password)   (kept in var/admin-password)"

stop-cluster:
	$(BIN)/python -m finserv.core.health.cluster stop --var $(VAR)

cluster-status:
	$(BIN)/python -m finserv.core.health.cluster status --var $(VAR)

# --- backups (docs/operations.md#backups) -----------------------------------
# repozo incremental backup of Data.fs + a copy of the blobs into var/backups/ (safe while running).
backup: install
	$(BIN)/python -m finserv.core.health.backup backup --var $(VAR) $(if $(FULL),--full)

# Restores the latest backup, or the state as of DATE=YYYY-MM-DD-HH-MM-SS (UTC); refuses while
# the embedded instance or the cluster runs.
restore: install
	$(BIN)/python -m finserv.core.health.backup restore --var $(VAR) $(if $(DATE),--date $(DATE))

# Packs the database (keeps DAYS of history): zeopack while the cluster runs, else directly.
DAYS ?= 7
pack: install
	$(BIN)/python -m finserv.core.health.backup pack --var $(VAR) --days $(DAYS)

bench: install bench-security
	$(BIN)/python benchmarks/run_all.py

# SM2/SM3/SM4 throughput beside the pure-Python gmssl (in its own throwaway venv: it is a
# baseline, never a dependency), and the cost of encrypted fields on a 100,000-record import.
bench-security: install
	test -d var/gmssl-venv || { $(PYTHON) -m venv var/gmssl-venv && var/gmssl-venv/bin/pip install -q gmssl==3.2.2; }
	$(BIN)/python benchmarks/crypto_bench.py --baseline-site $$(ls -d var/gmssl-venv/lib/python3*/site-packages)
	$(BIN)/python benchmarks/encrypted_import.py --records 100000

# Verifies the audit trail's SM3 chain and SM2-signed checkpoints (stop the embedded instance
# first: FileStorage is locked by a running Zope; with ZEO it can run at any time).
audit-verify: instance
	SITE_ID=$(SITE_ID) FINSERV_VAR=$(VAR) $(BIN)/zconsole run $(VAR)/etc/zope.conf src/finserv/core/verify_audit.py

# Rotates the SM4 data key and re-encrypts every stored value (docs/operations.md#keys).
rotate-keys: instance
	SITE_ID=$(SITE_ID) FINSERV_VAR=$(VAR) $(BIN)/zconsole run $(VAR)/etc/zope.conf src/finserv/core/rotate_keys.py

# Rebuilds locales/finserv.pot and syncs the zh_CN and en catalogs (i18ndude in its own venv:
# it is a tool for translators, not a dependency of the site).
i18n:
	test -x var/i18n-venv/bin/i18ndude || { $(PYTHON) -m venv var/i18n-venv && var/i18n-venv/bin/pip install -q i18ndude; }
	var/i18n-venv/bin/python src/finserv/locales/__main__.py var/i18n-venv/bin/i18ndude

clean-var:
	rm -rf $(VAR)

FORCE:
