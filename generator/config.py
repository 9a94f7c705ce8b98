"""The optional project file `slokit.yaml`: what would otherwise be repeated on every command line.

Found by walking up from the working directory (so `cd slos && slokit
generate` writes where it always does), read and validated like the specs
(positioned errors, a published JSON Schema), and resolved against its own
directory. Command-line arguments win over it; the specs' own settings win
over its conventions.
"""

from __future__ import annotations

from slokit import codes as C

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from slokit.errors import SlokitError
from slokit.load import read_yaml
from slokit.model import AlertName, LabelName, LabelValue, SeverityValues, Strict, Text, Version

CONFIG_FILE = "slokit.yaml"
RULE_FORMATS = ("prometheus", "operator", "mimir", "vmalert", "thanos", "sloth")
_URL = re.compile(r"^https?://[^\s\"'<>`]+$")


class Links(Strict):
    """Where alert links point."""

    runbook_base_url: Text | None = Field(
        default=None, description="URL where docs/runbooks/ is published, e.g. "
        "https://github.com/acme/slos/blob/main/docs/runbooks; alerts link <base>/<service>.md#<slo>.")
    grafana_url: Text | None = Field(
        default=None, description="Grafana base URL for the alerts' dashboard links (a spec's grafana_url wins).")


class Naming(Strict):
    """Label and naming conventions every spec inherits (a spec's own alerting settings win)."""

    alert_name: AlertName | None = Field(default=None, description="Name of the burn-rate alerts, e.g. SLOBurn.")
    severity_values: SeverityValues | None = Field(
        default=None, description="Words of the severity label, e.g. {page: critical, ticket: warning}.")
    labels: dict[LabelName, LabelValue] = Field(
        default_factory=dict, description="Labels on every alert, e.g. {env: prod}.")


# Grafana Mimir tenant IDs ("About Grafana Mimir tenant IDs", Mimir 2.17): at most 150 of these characters.
TenantID = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z!_.*'()-]{1,150}$")]
THANOS_STRATEGIES = ("abort", "warn")


class MimirRuler(Strict):
    """The Grafana Mimir / Cortex ruler the `mimir` rule files are loaded into."""

    source_tenants: list[TenantID] = Field(
        default_factory=list, description="Tenants every rule group queries (a federated rule group, Mimir's "
        "source_tenants; needs -ruler.tenant-federation.enabled); default none: the group's own tenant.")
    max_rules_per_rule_group: int = Field(
        default=0, ge=0, description="The tenant's ruler_max_rules_per_rule_group (Mimir's default is 20, Cortex's 0); "
        "generate fails when a group is larger. 0: not checked.")
    max_rule_groups_per_tenant: int = Field(
        default=0, ge=0, description="The tenant's ruler_max_rule_groups_per_tenant (Mimir's default is 70, Cortex's "
        "0); generate fails when the project has more groups. 0: not checked.")


class ThanosRuler(Strict):
    """The Thanos Ruler the `thanos` rule files are loaded into."""

    partial_response_strategy: Literal["abort", "warn"] = Field(
        default="abort", description="Written on every group: abort (Thanos' default, recommended for alerts) fails "
        "an evaluation when a store answers partially; warn evaluates on what answered.")
    external_labels: list[LabelName] = Field(
        default_factory=list, description="Names of the ruler's --label external labels; they replace labels of the "
        "same name on every series and alert, so none may be a label slokit writes.")


class ProjectConfig(Strict):
    """slokit.yaml: the project's directories, output formats, links and conventions."""

    version: Version = Field(default=1, description="Format version; always 1.")
    specs: list[Text] = Field(default_factory=lambda: ["slos"], min_length=1,
                              description="Directories (or files) of the SLO specs, relative to slokit.yaml.")
    catalog: Text | None = Field(default=None, description="The metric catalog; default catalog.yaml beside the specs.")
    output: Text = Field(default=".", description="Output root for alerts/, dashboards/, stack/grafana/, docs/runbooks/.")
    formats: list[Literal["prometheus", "operator", "mimir", "vmalert", "thanos", "sloth"]] = Field(
        default_factory=lambda: ["prometheus"], description="Rule formats `generate` writes (and keeps): prometheus "
        "is always written; add operator, mimir, vmalert (rates written for MetricsQL), thanos and/or sloth "
        "(Sloth's recording-rule names).")
    mimir: MimirRuler = Field(default_factory=MimirRuler, description="The Mimir / Cortex ruler of the mimir files.")
    thanos: ThanosRuler = Field(default_factory=ThanosRuler, description="The Thanos Ruler of the thanos files.")
    prometheus_version: Literal[2, 3] = Field(
        default=2, description="Prometheus major version the generated rule tests expect (`promtool --version`): "
        "2 (closed range selectors) or 3 (left-open ranges, `le` values as floats).")
    links: Links = Field(default_factory=Links, description="Where alert links point.")
    naming: Naming = Field(default_factory=Naming, description="Label and naming conventions.")
    preset: Text | None = Field(default=None, description="The preset `slokit init` started from (reserved for "
                                "shared defaults; informational today).")


@dataclass(frozen=True)
class Settings:
    """What the rest of slokit reads from the project file (defaults when there is none)."""

    root: Path | None = None  # directory of slokit.yaml
    specs: tuple[Path, ...] = ()
    catalog: Path | None = None
    output: Path | None = None
    formats: tuple[str, ...] = ()
    prometheus_version: int = 2  # whose range semantics the generated rule tests follow
    runbook_base_url: str | None = None
    grafana_url: str | None = None
    alert_name: str | None = None
    severity_values: SeverityValues | None = None
    labels: dict[str, str] = field(default_factory=dict)
    mimir: MimirRuler = field(default_factory=MimirRuler)
    thanos: ThanosRuler = field(default_factory=ThanosRuler)


    def conventions(self):
        """The naming conventions as an `alerting:` layer below every spec's own."""
        from slokit.model import Alerting

        return Alerting(labels=self.labels, alert_name=self.alert_name, severity_values=self.severity_values)


NO_SETTINGS = Settings()


def find_config(start: Path | None = None) -> Path | None:
    """slokit.yaml in `start` (default: the working directory) or the nearest directory above it."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def _resolve(root: Path, text: str) -> Path:
    """A path of slokit.yaml, relative to its directory."""
    return Path(text) if Path(text).is_absolute() else (root / text).resolve()


def load_config(path: Path, display: str | None = None) -> Settings:
    """Read and check slokit.yaml; raise SlokitError with every problem, positioned."""
    from slokit.project import to_model

    source = read_yaml(path, display or str(path))
    config, diags = to_model(source, ProjectConfig)
    if config is None:
        raise SlokitError(diags)
    root = path.parent.resolve()
    for key, url in (("runbook_base_url", config.links.runbook_base_url), ("grafana_url", config.links.grafana_url)):
        if url is not None and not _URL.match(url):
            diags.append(source.diagnostic(("links", key), f"{key} must be an http(s) URL without spaces or quotes, "
                                           f"got {url[:60]!r}", "e.g. https://grafana.example.com", code=C.BAD_URL))
    specs = []
    for i, text in enumerate(config.specs):
        p = _resolve(root, text)
        if not p.exists():
            diags.append(source.diagnostic(("specs", i), f"spec path {text!r} does not exist (relative to "
                                           f"{root})", "create it, or fix the path", code=C.NO_INPUT))
        specs.append(p)
    catalog = None
    if config.catalog is not None:
        catalog = _resolve(root, config.catalog)
        if not catalog.is_file():
            diags.append(source.diagnostic(("catalog",), f"catalog {config.catalog!r} is not a file",
                                           "fix the path, or remove `catalog` to use catalog.yaml beside the specs", code=C.NO_INPUT))
    values = config.naming.severity_values
    if values is not None and values.page == values.ticket:
        diags.append(source.diagnostic(("naming", "severity_values"), "page and ticket alerts would both say "
                                       f"severity={values.page!r}", "give each tier its own word", code=C.DUPLICATE_NAME))
    from slokit.validate import RESERVED_ALERT_LABELS

    from slokit.lookalike import lookalike_problem

    for name, value in config.naming.labels.items():
        if name in RESERVED_ALERT_LABELS or name.startswith("__"):
            diags.append(source.diagnostic(("naming", "labels", name), f"label {name!r} is set by slokit",
                                           "choose another label name", at_key=True, code=C.RESERVED_NAME))
        elif lookalike_problem(value):
            diags.append(source.diagnostic(("naming", "labels", name), f"value of label {name!r} "
                                           f"{lookalike_problem(value)}", "alerts are told apart and silenced by "
                                           "their labels: write the value with characters that can be seen and "
                                           "typed, in one script", code=C.BAD_LABEL_VALUE))
    for i, tenant in enumerate(config.mimir.source_tenants):
        if tenant in (".", "..", "__mimir_cluster"):
            diags.append(source.diagnostic(("mimir", "source_tenants", i), f"{tenant!r} is not a valid Mimir tenant ID",
                                           "Mimir refuses . and .. and keeps __mimir_cluster for itself: name the "
                                           "tenant as its X-Scope-OrgID says", code=C.BAD_VALUE))
    for i, name in enumerate(config.thanos.external_labels):
        if name in RESERVED_ALERT_LABELS or name in config.naming.labels:
            diags.append(source.diagnostic(("thanos", "external_labels", i), f"external label {name!r} would replace "
                                           "the label of that name slokit writes on every series and alert",
                                           "give the ruler's --label another name (e.g. ruler_cluster), or drop it",
                                           code=C.RESERVED_NAME))
    if diags:
        raise SlokitError(diags)
    return Settings(
        root=root, specs=tuple(specs), catalog=catalog, output=_resolve(root, config.output),
        formats=tuple(f for f in RULE_FORMATS if f in config.formats and f != "prometheus"),
        prometheus_version=config.prometheus_version,
        runbook_base_url=config.links.runbook_base_url, grafana_url=config.links.grafana_url,
        alert_name=config.naming.alert_name, severity_values=values, labels=dict(config.naming.labels),
        mimir=config.mimir, thanos=config.thanos,
    )


def project_settings(start: Path | None = None) -> Settings:
    """The settings of the project around `start`, or the defaults when there is no slokit.yaml."""
    path = find_config(start)
    if path is None:
        return NO_SETTINGS
    try:
        display = str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        display = str(path)
    return load_config(path, display)


@dataclass(frozen=True)
class Inputs:
    """What a command reads: its PATH arguments and --catalog, else slokit.yaml's, else slos/."""

    paths: tuple[Path, ...]
    catalog: Path | None
    settings: Settings

    @property
    def output(self) -> Path:
        return self.settings.output or Path(".")

    def formats(self, given: tuple[str, ...]) -> tuple[str, ...]:
        """Rule formats to write: the configured ones plus any given (so a plain `generate` keeps them)."""
        return tuple(f for f in RULE_FORMATS if f in given or f in self.settings.formats)


def resolve_inputs(paths: tuple[Path, ...], catalog: Path | None) -> Inputs:
    """Command-line arguments win; slokit.yaml (found upwards from the working directory) fills the rest."""
    settings = project_settings()
    if not paths:
        paths = settings.specs or ((Path("slos"),) if Path("slos").is_dir() else ())
    return Inputs(tuple(paths), catalog or settings.catalog, settings)
