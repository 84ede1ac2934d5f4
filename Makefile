# finserv — see README.md. `make start` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
VAR := $(CURDIR)/var
HOST ?= 127.0.0.1
PORT ?= 8080
SITE_ID ?= finserv

.PHONY: help install instance site start test test-fast e2e-deps bench clean-var audit-verify rotate-keys i18n

help:
	@echo "make start   install everything, create the site with demo data, serve it on http://$(HOST):$(PORT)"
	@echo "make test    run the whole test suite (unit, integration, REST, browser)"
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

test: install e2e-deps
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not e2e"

bench: install
	$(BIN)/python benchmarks/run_all.py

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
