"""`slokit diff`: what a change to the specs does, against a git ref.

Both sides go through the same load, model, plan and render stages: the
specs at the ref are read with `git show` into a temporary directory (git is
only read), loaded like the working tree, planned and rendered. The
comparison reads the plans (budgets, tiers, detection times) and the
rendered files; it never re-derives SLO math.
"""

from __future__ import annotations

import difflib
import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from slokit.errors import Diagnostic, SlokitError
from slokit.explain import ERROR_RATES, human_duration, outage_seconds
from slokit.plan import AlertingRule, BudgetPlan, ProjectPlan, SLOPlan, build_plan, total_rate_query
from slokit.pipeline import load_and_check
from slokit.project import CATALOG_FILE, Project
from slokit.promql import number

DEFAULT_BRANCHES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")
# Current traffic is the rate over this window: long enough to smooth bursts, short enough to be "now".
TRAFFIC_WINDOW = "1h"


class DiffError(Exception):
    """git is missing, the path is outside a repository, or the ref is unknown."""


# --------------------------------------------------------------------------
# Reading the base from git
# --------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    git = shutil.which("git")
    if git is None:
        raise DiffError("git is not installed; slokit diff compares against a git ref")
    return subprocess.run([git, *args], cwd=cwd, capture_output=True, timeout=60, check=False)


def repo_root(path: Path) -> Path:
    where = path if path.is_dir() else path.parent
    proc = _git(where, "rev-parse", "--show-toplevel")
    if proc.returncode != 0:
        raise DiffError(f"{path} is not inside a git work tree")
    return Path(proc.stdout.decode().strip())


def default_base(root: Path) -> str:
    """The merge base with the default branch; HEAD when there is none or we are on it."""
    for branch in DEFAULT_BRANCHES:
        if _git(root, "rev-parse", "--verify", "-q", branch + "^{commit}").returncode != 0:
            continue
        base = _git(root, "merge-base", "HEAD", branch)
        if base.returncode == 0:
            return base.stdout.decode().strip()
    return "HEAD"


def export_tree(root: Path, ref: str, rel: str, dest: Path) -> bool:
    """Write the files under `rel` at `ref` into dest/rel; False when `rel` did not exist at `ref`."""
    if _git(root, "rev-parse", "--verify", "-q", ref + "^{commit}").returncode != 0:
        raise DiffError(f"unknown git ref {ref!r}")
    listing = _git(root, "ls-tree", "-r", "-z", "--name-only", ref, "--", rel)
    names = [n for n in listing.stdout.decode().split("\0") if n]
    for name in names:
        blob = _git(root, "show", f"{ref}:{name}")
        if blob.returncode != 0:
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob.stdout)
    return bool(names)


def _relocate(project: Project, old: str, new: str) -> Project:
    """Show the base's files under the working tree's names, so generated headers compare equal."""
    def move(source):
        path = source.path
        return replace(source, path=new + path[len(old):]) if path.startswith(old) else source

    services = tuple(replace(s, source=move(s.source)) for s in project.services)
    return replace(project, services=services, catalog_source=move(project.catalog_source))


# --------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SLOFacts:
    """What a reviewer needs of one SLO on one side, read from its plan."""

    objective: str
    window: str
    sli: str
    group_by: tuple[str, ...]
    tiers: tuple[str, ...]
    routes: tuple[str, ...]
    outage_minutes: float
    failed_per_million: float
    detection: dict[str, tuple[str, ...]]  # tier -> detection times at ERROR_RATES
    # With --prometheus: events per second now, and the budget in failed events at that traffic.
    events_per_second: float | None = None
    budget_events_now: float | None = None

    @classmethod
    def of(cls, slo: SLOPlan, events_per_second: float | None = None) -> "SLOFacts":
        tiers = tuple(f"{t.severity} {number(t.tier.budget_percent)}%/{t.tier.long_window}+{t.tier.short_window} "
                      f"burn {number(t.burn_factor)}{'' if t.enabled else ' (off)'}" for t in slo.tiers)
        routes = tuple(f"{name}: {'on' if r.enabled else 'off'}, alert {r.alert_name}, "
                       f"labels {dict(r.labels)}, runbook {r.runbook_url or '-'}"
                       for name, r in (("page", slo.page), ("ticket", slo.ticket)))
        detection = {label: tuple(human_duration(t.detection_seconds(e)) for e in ERROR_RATES)
                     for label, t in zip(tiers, slo.tiers)}
        sli = f"{slo.sli.kind}/{slo.sli.events}: {slo.sli.events_query} / {slo.sli.total_query}"
        budget_now = (None if events_per_second is None
                      else float(slo.error_budget) * events_per_second * slo.window_s)
        return cls(f"{number(slo.objective)}%", slo.window, sli, slo.group_by, tiers, routes,
                   round(outage_seconds(slo) / 60, 2), float(slo.error_budget * Decimal(10**6)), detection,
                   events_per_second, budget_now)


CHANGEABLE = ("objective", "window", "sli", "group_by", "tiers", "routes")


@dataclass(frozen=True)
class SLOChange:
    service: str
    slo: str
    status: str  # added | removed | changed
    before: SLOFacts | None
    after: SLOFacts | None

    @property
    def fields(self) -> tuple[str, ...]:
        if self.before is None or self.after is None:
            return ()
        return tuple(f for f in CHANGEABLE if getattr(self.before, f) != getattr(self.after, f))


@dataclass(frozen=True)
class BudgetChange:
    service: str
    budget: str
    status: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str
    added: int
    removed: int


@dataclass(frozen=True)
class ProjectDiff:
    base: str
    services_added: tuple[str, ...]
    services_removed: tuple[str, ...]
    slos: tuple[SLOChange, ...]
    budgets: tuple[BudgetChange, ...]
    alerts_added: tuple[str, ...]
    alerts_removed: tuple[str, ...]
    files: tuple[FileChange, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.services_added or self.services_removed or self.slos or self.budgets
                    or self.alerts_added or self.alerts_removed or self.files)


def _budget_text(b: BudgetPlan) -> str:
    text = f"{b.limit:g} {b.unit} per {b.window}"
    if b.by:
        text += f" by {', '.join(b.by)}"
    if b.regression_factor is not None:
        text += f", regression x{b.regression_factor:g} vs {b.regression_offset} ago"
    return text


def _alerts(plan: ProjectPlan) -> set[str]:
    found = set()
    for service in plan.services:
        for group in service.rule_groups:
            for rule in group.rules:
                if isinstance(rule, AlertingRule):
                    labels = dict(rule.labels)
                    window = labels.get("long_window", "")
                    found.add(f"{service.service}: {rule.alert} {labels.get('severity', '')} "
                              f"({group.name}{', ' + window if window else ''})".replace("  ", " "))
    return found


def _line_counts(old: str, new: str) -> tuple[int, int]:
    added = removed = 0
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def compare_files(before: dict[str, str], after: dict[str, str]) -> tuple[FileChange, ...]:
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        changes.append(FileChange(path, status, *_line_counts(old or "", new or "")))
    return tuple(changes)


def query_traffic(url: str, slo: SLOPlan) -> float | None:
    """The SLO's total events per second now, from Prometheus's HTTP API (/api/v1/query); None without data."""
    query = urllib.parse.urlencode({"query": total_rate_query(slo.sli, TRAFFIC_WINDOW)})
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/v1/query?{query}", timeout=30) as response:
            doc = json.load(response)
    except (OSError, ValueError, urllib.error.URLError) as exc:
        raise DiffError(f"cannot query Prometheus at {url}: {exc}") from None
    if doc.get("status") != "success":
        raise DiffError(f"Prometheus at {url} refused the query: {doc.get('error', doc)}")
    values = [float(r["value"][1]) for r in doc.get("data", {}).get("result", [])]
    return sum(values) if values else None


Traffic = dict[tuple[str, str], float | None]


def traffic_of(url: str | None, plan: ProjectPlan | None) -> Traffic:
    if url is None or plan is None:
        return {}
    return {(s.service, s.name): query_traffic(url, s) for svc in plan.services for s in svc.slos}


def compare(base: ProjectPlan | None, head: ProjectPlan, ref: str,
            files: tuple[FileChange, ...] = (), prometheus: str | None = None) -> ProjectDiff:
    old_services = {s.service: s for s in base.services} if base else {}
    new_services = {s.service: s for s in head.services}
    old_slos = {(s.service, s.name): s for svc in old_services.values() for s in svc.slos}
    new_slos = {(s.service, s.name): s for svc in new_services.values() for s in svc.slos}
    old_traffic, new_traffic = traffic_of(prometheus, base), traffic_of(prometheus, head)
    slos = []
    for key in sorted(set(old_slos) | set(new_slos)):
        before = SLOFacts.of(old_slos[key], old_traffic.get(key)) if key in old_slos else None
        after = SLOFacts.of(new_slos[key], new_traffic.get(key)) if key in new_slos else None
        status = "added" if before is None else "removed" if after is None else "changed"
        change = SLOChange(*key, status, before, after)
        if status != "changed" or change.fields:
            slos.append(change)
    old_budgets = {(b.service, b.name): _budget_text(b) for svc in old_services.values() for b in svc.budgets}
    new_budgets = {(b.service, b.name): _budget_text(b) for svc in new_services.values() for b in svc.budgets}
    budgets = []
    for key in sorted(set(old_budgets) | set(new_budgets)):
        before, after = old_budgets.get(key), new_budgets.get(key)
        if before != after:
            status = "added" if before is None else "removed" if after is None else "changed"
            budgets.append(BudgetChange(*key, status, before, after))
    old_alerts = _alerts(base) if base else set()
    new_alerts = _alerts(head)
    return ProjectDiff(ref, tuple(sorted(set(new_services) - set(old_services))),
                       tuple(sorted(set(old_services) - set(new_services))), tuple(slos), tuple(budgets),
                       tuple(sorted(new_alerts - old_alerts)), tuple(sorted(old_alerts - new_alerts)), files)


# --------------------------------------------------------------------------
# Loading both sides
# --------------------------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def diff_project(path: Path, base: str | None, catalog: Path | None = None,
                 rule_formats: tuple[str, ...] = (), prometheus: str | None = None) -> ProjectDiff:
    """Load the specs at `path` now and at `base` (default: merge base with the default branch) and compare.

    With `prometheus` (a URL), each SLO's budget is also given in failed events at its current traffic.
    """
    from slokit.pipeline import build_outputs

    root = repo_root(path)
    ref = base or default_base(root)
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    catalog_rel = catalog.resolve().relative_to(root.resolve()).as_posix() if catalog else None
    head_project = load_and_check([path], catalog)
    head_plan = build_plan(head_project)
    head_outputs = build_outputs(head_project, rule_formats)
    with tempfile.TemporaryDirectory(prefix="slokit-diff-") as tmp:
        tmp_root = Path(tmp)
        existed = export_tree(root, ref, rel, tmp_root)
        if catalog_rel:
            export_tree(root, ref, catalog_rel, tmp_root)
        base_catalog = tmp_root / catalog_rel if catalog_rel else None
        spec_dir = tmp_root / rel
        has_catalog = (base_catalog or spec_dir / CATALOG_FILE).is_file() if path.is_dir() else True
        if not existed or not has_catalog:
            return compare(None, head_plan, ref, compare_files({}, head_outputs), prometheus)
        try:
            base_project = load_and_check([spec_dir], base_catalog if base_catalog and base_catalog.is_file()
                                        else None)
        except SlokitError as exc:
            raise SlokitError([Diagnostic(d.path, d.line, d.column, f"at {ref}: {d.message}", d.hint, d.code)
                               for d in exc.diagnostics], exc.omitted) from None
        base_project = _relocate(base_project, str(spec_dir), _display(path))
        if base_catalog is not None and catalog is not None:
            base_project = _relocate(base_project, str(base_catalog), _display(catalog))
        base_outputs = build_outputs(base_project, rule_formats)
        return compare(build_plan(base_project), head_plan, ref, compare_files(base_outputs, head_outputs),
                       prometheus)
