# Two entry points (see README): `make run` and `make test`. Both set up
# everything they need on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SLOKIT := $(BIN)/slokit
APT_PACKAGES := prometheus prometheus-alertmanager victoria-metrics docker-compose

.PHONY: run test setup system-deps generate check clean up down demo demo-local demo-local-down

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true

# Python package with the demo app and test extras, editable: code changes
# need no reinstall, so it runs again only when pyproject.toml changes. pip's
# output goes to a log, shown only when the install fails.
STAMP := $(VENV)/.slokit-installed

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing slokit and its dependencies into $(VENV) (log: $(VENV)/pip-install.log)"
	@$(BIN)/python -m pip install -q -e '.[app,test]' >$(VENV)/pip-install.log 2>&1 || \
	  { cat $(VENV)/pip-install.log; exit 1; }
	@touch $@

setup: $(STAMP)

# Real prometheus, promtool, alertmanager, amtool, victoria-metrics and vmalert
# (Debian packages), installed
# only when missing. Debian names the Alertmanager binary
# prometheus-alertmanager, upstream tarballs alertmanager: either will do.
# Uses sudo when not root.
system-deps:
	@missing=""; \
	for b in prometheus promtool amtool victoria-metrics vmalert docker-compose; do \
	  command -v $$b >/dev/null 2>&1 || missing="$$missing $$b"; done; \
	command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || \
	  missing="$$missing alertmanager"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (Debian packages: $(APT_PACKAGES))"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	fi
	@promtool --version | head -1

# The main job on the bundled example.
run: setup
	$(SLOKIT) validate slos/
	$(SLOKIT) generate slos/

generate: setup
	$(SLOKIT) generate slos/

check: setup
	$(SLOKIT) generate --check slos/

# The demo stack (stack/docker-compose.yml) needs Docker with Compose v2
# (`docker compose`) or v1 (`docker-compose`), and stack/.env (copy
# stack/.env.example and set the passwords). Evaluated only when used.
COMPOSE = $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; \
            elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; fi)
STACK   = -p slokit -f stack/docker-compose.yml

# Generate rules, dashboards and provisioning, then start the stack.
up: generate
	@test -n "$(COMPOSE)" || { echo "make up: needs Docker Compose (docker compose or docker-compose)" >&2; exit 1; }
	@test -f stack/.env || { echo "make up: create stack/.env from stack/.env.example (GF_ADMIN_PASSWORD, SLOKIT_APP_ADMIN_TOKEN)" >&2; exit 1; }
	$(COMPOSE) $(STACK) up -d --build
	@echo "Grafana http://127.0.0.1:3000 (admin / GF_ADMIN_PASSWORD)  Prometheus http://127.0.0.1:9090  Alertmanager http://127.0.0.1:9093"
	@echo "Next: make demo   (normal traffic, provider outage, recovery)"

# Stop the stack; data volumes stay (add -v to the compose command to drop them).
down:
	@test -n "$(COMPOSE)" || { echo "make down: needs Docker Compose (docker compose or docker-compose)" >&2; exit 1; }
	@# Compose interpolates the whole file even for `down`; the secrets are not used here.
	GF_ADMIN_PASSWORD=unused SLOKIT_APP_ADMIN_TOKEN=unused $(COMPOSE) $(STACK) down

# Scripted incident on the running stack: normal traffic, outage, recovery (~14 min).
demo:
	@test -n "$(COMPOSE)" || { echo "make demo: needs Docker Compose (docker compose or docker-compose)" >&2; exit 1; }
	COMPOSE="$(COMPOSE)" sh stack/demo.sh

# The demo without Docker: app, load generator, Prometheus with the generated
# rules, Alertmanager and the alert sink on 127.0.0.1; runs normal traffic, a
# provider outage and recovery (~10 min), prints what fired, keeps running
# for `slokit status` / `slokit report` until `make demo-local-down`.
demo-local: generate system-deps
	$(BIN)/python stack/demo_local.py up

demo-local-down:
	$(BIN)/python stack/demo_local.py down

# The whole test suite, against real Prometheus / promtool / Alertmanager.
test: setup system-deps
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
