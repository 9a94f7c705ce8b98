# Two entry points (see README): `make run` and `make test`. Both set up
# everything they need on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SLOKIT := $(BIN)/slokit
APT_PACKAGES := prometheus prometheus-alertmanager docker-compose

.PHONY: run test setup system-deps generate check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Python package with the demo app and test extras, editable.
setup: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[app,test]'

# Real prometheus, promtool, alertmanager, amtool (Debian packages), installed
# only when missing. Uses sudo when not root.
system-deps:
	@missing=""; \
	for b in prometheus promtool alertmanager amtool docker-compose; do \
	  command -v $$b >/dev/null 2>&1 || missing="yes"; done; \
	if [ -n "$$missing" ]; then \
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

# The whole test suite, against real Prometheus / promtool / Alertmanager.
test: setup system-deps
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
