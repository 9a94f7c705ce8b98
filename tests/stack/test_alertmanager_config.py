"""stack/alertmanager/alertmanager.yml: amtool accepts it, routes page and
ticket alerts to their receivers, and a real Alertmanager inhibits an SLO's
ticket while the same SLO pages."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from support.alertmanager import alert, amtool_binary, load_config, with_webhook
from support.wait import wait_until

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "stack" / "alertmanager" / "alertmanager.yml"


def amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([amtool_binary(), *args], capture_output=True, text=True, timeout=60)


def test_amtool_accepts_the_config():
    out = amtool("check-config", str(CONFIG))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout and "1 inhibit rules" in out.stdout and "2 receivers" in out.stdout


@pytest.mark.parametrize(("labels", "receiver"), [
    (["alertname=SLOErrorBudgetBurn", "severity=page", "service=support-chatbot", "slo=api-success"], "page"),
    (["alertname=SLOErrorBudgetBurn", "severity=ticket", "service=support-chatbot", "slo=api-success"], "ticket"),
    (["alertname=SLOBudgetProjectedOverrun", "severity=ticket", "service=support-chatbot"], "ticket"),
    (["alertname=SomethingElse"], "ticket"),
])
def test_routes(labels, receiver):
    out = amtool("config", "routes", "test", f"--config.file={CONFIG}", *labels)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [receiver]


def test_grouping():
    config = load_config(CONFIG)
    assert config["route"]["group_by"] == ["alertname", "service", "slo"]
    assert all(r["webhook_configs"][0]["send_resolved"] for r in config["receivers"])


def burn(severity: str, slo: str = "api-success", **extra: str) -> dict[str, str]:
    window = {"page": "1h", "ticket": "1d"}[severity]
    return {"alertname": "SLOErrorBudgetBurn", "service": "support-chatbot", "slo": slo, "severity": severity,
            "long_window": window, "team": "assistant-team", **extra}


def test_a_page_inhibits_the_ticket_of_the_same_slo_only(webhook, start_alertmanager):
    """The shipped routes and inhibition, on a real Alertmanager, receivers
    swapped for the test's webhook (URL path = receiver name)."""
    am = start_alertmanager(with_webhook(load_config(CONFIG), webhook.base_url))
    client = am.client
    page = burn("page")
    inhibited = burn("ticket")
    other_slo = burn("ticket", slo="ttft-under-1s")
    ttft_page = burn("page", slo="ttft-under-1s", feature="order_agent")
    other_feature = burn("ticket", slo="ttft-under-1s", feature="support_chat")
    # Pages first: Alertmanager's inhibitor learns about source alerts
    # asynchronously, so a target posted in the same instant can slip through
    # its first notification (in production Prometheus resends every
    # evaluation; here the order is made explicit).
    client.post_alerts([alert(page), alert(ttft_page)])
    wait_until(lambda: len(client.alerts(active=True)) == 2, 10, what="the pages in Alertmanager")
    time.sleep(0.5)
    client.post_alerts([alert(inhibited), alert(other_slo), alert(other_feature)])

    def states() -> dict[tuple, str]:
        return {(a["labels"]["slo"], a["labels"]["severity"], a["labels"].get("feature", "")): a["status"]["state"]
                for a in client.alerts()}

    expected = {
        ("api-success", "page", ""): "active",
        ("api-success", "ticket", ""): "suppressed",  # same service, slo (and no feature): inhibited
        ("ttft-under-1s", "page", "order_agent"): "active",
        # `equal` compares values: a missing feature ("") differs from "order_agent",
        ("ttft-under-1s", "ticket", ""): "active",
        # and a page for one feature does not hide another feature's ticket.
        ("ttft-under-1s", "ticket", "support_chat"): "active",
    }
    wait_until(lambda: states() == expected, 20, what=f"alert states {expected}")
    suppressed = next(a for a in client.alerts() if a["status"]["state"] == "suppressed")
    assert suppressed["status"]["inhibitedBy"], suppressed

    # Notifications: the page on the page receiver, the free tickets on the
    # ticket receiver, never the inhibited one.
    webhook.wait_for_alert(lambda a: a["labels"] == page, 30, what="the page notification")
    webhook.wait_for_alert(lambda a: a["labels"] == other_feature, 30, what="the other feature's ticket")
    webhook.wait_for_alert(lambda a: a["labels"] == other_slo, 30, what="the other SLO's ticket")
    receivers = {n.receiver for n in webhook.notifications() for a in n.alerts if a["labels"] == page}
    assert receivers == {"page"}
    assert {n.path for n in webhook.notifications() if n.receiver == "page"} == {"/page"}
    assert not [a for _, a in webhook.alerts() if a["labels"] == inhibited]

    # The page resolves: the ticket is no longer inhibited and is delivered.
    client.post_alerts([alert(page, resolved=True)])
    _, ticket = webhook.wait_for_alert(lambda a: a["labels"] == inhibited and a["status"] == "firing", 30,
                                       what="the ticket after the page resolved")
    notification = next(n for n in webhook.notifications() if ticket in n.alerts)
    assert notification.receiver == "ticket"
    webhook.wait_for_alert(lambda a: a["labels"] == page and a["status"] == "resolved", 30,
                           what="the page's resolved notification")
