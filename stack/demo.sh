#!/bin/sh
# `make demo`: a scripted incident on the running stack (`make up` first).
# Normal traffic, then a provider outage, then recovery; prints where to look.
# Scenarios are switched through the app's admin endpoint from inside the app
# container (it accepts loopback callers only, with SLOKIT_APP_ADMIN_TOKEN).
set -eu

COMPOSE=${COMPOSE:-docker compose}
# Burn-rate alerts do not depend on the traffic rate (only on a minimum of
# events per hour); spend budgets do, and hold at about 0.25 req/s in total.
RATE=${DEMO_RATE:-0.5}
NORMAL=${DEMO_NORMAL:-120s}
# A stack that has run for an hour has a full 1h window of clean traffic: a
# total outage then crosses the 14.4x page threshold after
# 14.4 x 0.5% x 60 min = 4.3 min (sooner on a fresh stack, whose window holds
# less history). Six minutes leave margin; the page resolves about five
# minutes after recovery, when the outage has left the 5m window.
OUTAGE=${DEMO_OUTAGE:-360s}
RECOVERY=${DEMO_RECOVERY:-360s}
dc() { $COMPOSE -p slokit -f "$(dirname "$0")/docker-compose.yml" "$@"; }
load() {  # load DURATION [SCHEDULE]
    if [ -n "${2:-}" ]; then
        dc exec -T app slokit-loadgen --url http://127.0.0.1:8000 --rate "$RATE" --duration "$1" --schedule "$2"
    else
        dc exec -T app slokit-loadgen --url http://127.0.0.1:8000 --rate "$RATE" --duration "$1"
    fi
}
say() { printf '\n[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

dc exec -T app python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)" \
    || { echo "make demo: the stack is not running; run 'make up' first" >&2; exit 1; }

say "1/3 normal traffic for $NORMAL at $RATE req/s"
echo "     Grafana: http://127.0.0.1:3000/d/slokit-overview (SLO traffic lights, burn rates)"
load "$NORMAL" "0s:none"

say "2/3 provider outage for $OUTAGE: every model call fails (5xx / timeouts)"
echo "     Expect within 4.3 minutes (sooner on a fresh stack): SLOErrorBudgetBurn{slo=\"api-success\", severity=\"page\", long_window=\"1h\"}"
echo "     Prometheus:   http://127.0.0.1:9090/alerts"
echo "     Alertmanager: http://127.0.0.1:9093/#/alerts (the api-success ticket is inhibited while the page fires)"
echo "     Notifications: $COMPOSE -p slokit -f stack/docker-compose.yml logs -f alert-sink"
echo "     Dashboard:    http://127.0.0.1:3000/d/slokit-support-chatbot (error ratio, burn rate, circuit breaker, fallbacks)"
load "$OUTAGE" "0s:provider_outage"

say "3/3 recovery for $RECOVERY: scenarios cleared"
echo "     The page resolves once the 5m burn rate falls under 14.4x, about 5 minutes (the alert-sink logs status=resolved)."
echo "     Traces of the failed requests: Grafana > Explore > Tempo (errors are always kept by tail sampling);"
echo "     or click an exemplar dot on a latency panel."
load "$RECOVERY" "0s:none"

say "done. Error budget spent by the outage: http://127.0.0.1:3000/d/slokit-support-chatbot"
