"""User text never executes and never breaks an output (issue 11).

A property test puts arbitrary Unicode into every user text field of one
spec (labels, annotations, descriptions, runbook and Grafana URLs), many
strings at once so that one example costs one `slokit generate`, one
`promtool check rules` and one `promtool test rules`:

- the rule files (prometheus, operator, mimir formats) pass promtool;
- the generated promtool test expects the alerts' labels and annotations to be
  exactly the literal text, and promtool (Prometheus' own template
  expansion) agrees;
- dashboards and runbooks carry the text literally: JSON decodes to it, and
  the runbook rendered by cmark-gfm has the same HTML elements as with plain
  text (no heading, comment, tag or link comes from the user).

Example-based tests pin the defects of the old code one by one.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm
import pytest
import yaml
from cmarkgfm.cmark import Options
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from slokit.load import _CONTROL as CONTROL
from slokit.lookalike import lookalike_problem
from slokit.pipeline import build_outputs
from slokit.project import load_project

from .promtool import check_rules, run_tests

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "slos" / "catalog.yaml"
SERVICE = "hostile"
N_TEXTS = 6

# Any Unicode scalar value a spec may hold: YAML has no surrogates, and the loader rejects control characters
# other than tabs and line breaks (tests/language covers that).
TEXT = st.text(st.characters(codec="utf-8").filter(lambda c: not CONTROL.match(c)), max_size=40)
# Pieces that mean something to Go templates, YAML, Markdown, HTML: joined at random.
BRACES = st.lists(st.sampled_from(["{", "}", "{{", "}}", "$", "`", '"', "'", "\\", " ", "x", "-->", "<!--", "#", "\n",
                                   "*", "[", "](", "<b>", "&amp;", "|", "1. ", "- ", "```"]),
                  max_size=12).map("".join)
ANY_TEXT = st.one_of(TEXT, BRACES, st.builds(lambda a, b: a + b, BRACES, TEXT))
# Label values: one line, not empty, nothing invisible or look-alike (validation rejects those, see test_lookalike).
LABEL_VALUE = st.one_of(TEXT, BRACES).filter(
    lambda v: v != "" and not any(c in v for c in "\n\r\t") and not lookalike_problem(v))
URL_TAIL = st.one_of(TEXT, BRACES).filter(lambda v: re.fullmatch(r"[^\s\"'<>`]*", v) is not None)


def _spec(t: dict[str, Any]) -> dict[str, Any]:
    ratio = {"bad": {"metric": "llm_requests_total", "match": {"status": ["server_error"]}},
             "total": {"metric": "llm_requests_total"}}
    return {
        "service": SERVICE, "owner": "team-a", "description": t["service_description"],
        "grafana_url": "https://grafana.example.com/" + t["grafana_tail"],
        "labels": {f"l{i}": v for i, v in enumerate(t["labels"])},
        "slos": [{
            "name": "api", "description": t["slo_description"], "objective": 99, "sli": {"ratio": ratio},
            "alerting": {"page": {"runbook_url": "https://runbooks.example.com/" + t["runbook_tail"],
                                  "labels": {f"p{i}": v for i, v in enumerate(t["page_labels"])},
                                  "annotations": {"summary": t["summary"],
                                                  **{f"a{i}": v for i, v in enumerate(t["annotations"])}}}},
        }],
        "budgets": [{"name": "spend", "description": t["budget_description"], "metric": "llm_cost_usd_total",
                     "limit": 100, "alerting": {"annotations": {"description": t["budget_annotation"]}}}],
    }


def _generate(tmp: Path, texts: dict[str, Any]) -> dict[str, str]:
    specs = tmp / "slos"
    specs.mkdir(parents=True, exist_ok=True)
    (specs / f"{SERVICE}.yaml").write_text(yaml.safe_dump(_spec(texts), allow_unicode=True), encoding="utf-8")
    outputs = build_outputs(load_project([specs], CATALOG), ("operator", "mimir"))
    for path, text in outputs.items():
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / path).write_text(text, encoding="utf-8")
    return outputs


def _alerts(test_file: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(test_file.read_text(encoding="utf-8"))
    return [a for group in data["tests"] for t in group.get("alert_rule_test", []) for a in t["exp_alerts"]]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.comments = 0
        self.paragraphs: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "p":
            self._text = []

    def handle_endtag(self, tag):
        self.tags.append("/" + tag)
        if tag == "p" and self._text is not None:
            self.paragraphs.append("".join(self._text))
            self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_comment(self, data):
        self.comments += 1


# HTML comments in the runbook of the test service: its header, and two markers for each of its three
# kept sections (contacts, the SLO and the budget).
KEPT_COMMENTS = 1 + 2 * 3


def runbook_html(markdown: str) -> _Tags:
    """The runbook as GitHub renders it, raw HTML kept (so an injected tag would show). Autolinks of bare
    URLs are left out: a URL in a description becoming clickable is not an injection."""
    html = cmarkgfm.markdown_to_html_with_extensions(markdown, Options.CMARK_OPT_UNSAFE,
                                                      extensions=["table", "strikethrough", "tagfilter"])
    parser = _Tags()
    parser.feed(html)
    return parser


def _rendered(text: str) -> str:
    """What the text of a paragraph is once rendered: on one line, NUL replaced as CommonMark does."""
    return re.sub(r"[\r\n\v\f\x85\u2028\u2029]+", " ", text).strip().replace("\0", "\ufffd")


TEXTS = st.fixed_dictionaries({
    "service_description": ANY_TEXT, "slo_description": ANY_TEXT, "budget_description": ANY_TEXT,
    "summary": ANY_TEXT, "budget_annotation": ANY_TEXT,
    "annotations": st.lists(ANY_TEXT, min_size=N_TEXTS, max_size=N_TEXTS),
    "labels": st.lists(LABEL_VALUE, min_size=3, max_size=3),
    "page_labels": st.lists(LABEL_VALUE, min_size=3, max_size=3),
    "grafana_tail": URL_TAIL, "runbook_tail": URL_TAIL,
})


# No shrinking: each example runs promtool twice, and a failure prints its example anyway.
@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                 HealthCheck.function_scoped_fixture])
@given(texts=TEXTS)
def test_arbitrary_user_text_is_literal_in_every_output(tmp_path_factory, texts):
    tmp = tmp_path_factory.mktemp("usertext")
    outputs = _generate(tmp, texts)
    alerts_dir = tmp / "alerts"

    # Rule files in all three formats pass promtool, and carry the same groups.
    rules = yaml.safe_load(outputs[f"alerts/{SERVICE}.rules.yaml"])
    operator = yaml.safe_load(outputs[f"alerts/{SERVICE}.prometheusrule.yaml"])["spec"]
    mimir = yaml.safe_load(outputs[f"alerts/{SERVICE}.mimir.yaml"])
    mimir.pop("namespace")
    assert operator == rules and mimir == rules
    (tmp / "operator.rules.yaml").write_text(yaml.safe_dump(operator, allow_unicode=True), encoding="utf-8")
    check_rules(alerts_dir / f"{SERVICE}.rules.yaml", tmp / "operator.rules.yaml")

    # The generated test expects the literal text, and Prometheus' template expansion agrees.
    grafana = ("https://grafana.example.com/" + texts["grafana_tail"]).rstrip("/")
    page = [a for a in _alerts(alerts_dir / "tests" / f"{SERVICE}.test.yaml")
            if a["exp_labels"].get("severity") == "page" and a["exp_labels"].get("slo") == "api"]
    budget = [a for a in _alerts(alerts_dir / "tests" / f"{SERVICE}.test.yaml")
              if a["exp_labels"].get("budget") == "spend"]
    assert page and budget
    for alert in page:
        labels, annotations = alert["exp_labels"], alert["exp_annotations"]
        assert [labels[f"l{i}"] for i in range(3)] == texts["labels"]
        assert [labels[f"p{i}"] for i in range(3)] == texts["page_labels"]
        assert [annotations[f"a{i}"] for i in range(N_TEXTS)] == texts["annotations"]
        assert annotations["summary"] == texts["summary"]
        assert annotations["runbook_url"] == "https://runbooks.example.com/" + texts["runbook_tail"]
        # The link opens the SLO's panel: the Grafana URL is literal, the query string is slokit's own.
        assert annotations["dashboard"].startswith(f"{grafana}/d/slokit-{SERVICE}?viewPanel=")
    assert all(a["exp_annotations"]["description"] == texts["budget_annotation"] for a in budget)
    proc = run_tests(alerts_dir / "tests" / f"{SERVICE}.test.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # Dashboards: JSON decodes to the literal text.
    board = json.loads(outputs[f"dashboards/{SERVICE}.json"])
    assert texts["service_description"] in board["description"]

    # Runbooks: the same HTML elements as with plain descriptions, and the descriptions shown as written.
    plain = dict(texts, service_description="x", slo_description="x", budget_description="x")
    baseline = runbook_html(_generate(tmp_path_factory.mktemp("plain"), plain)[f"docs/runbooks/{SERVICE}.md"])
    hostile = runbook_html(outputs[f"docs/runbooks/{SERVICE}.md"])
    assert hostile.tags == baseline.tags
    # The header, and the two marker comments of each kept section (contacts, the SLO, the budget).
    assert hostile.comments == baseline.comments == KEPT_COMMENTS
    for key, prefix in (("slo_description", "What it measures. "), ("budget_description", "What it caps. ")):
        shown = next(p for p in hostile.paragraphs if p.startswith(prefix))
        assert shown.startswith(prefix + _rendered(texts[key]))
    assert any(p.startswith(_rendered(texts["service_description"])) for p in hostile.paragraphs)


# -- the defects of the old code, one by one ---------------------------------------------------------------------

PLAIN = {"service_description": "d", "slo_description": "d", "budget_description": "d", "summary": "s",
         "budget_annotation": "b", "annotations": ["a"] * N_TEXTS, "labels": ["v"] * 3, "page_labels": ["v"] * 3,
         "grafana_tail": "", "runbook_tail": "r"}


def _generated_and_tested(tmp: Path, **changes: Any) -> dict[str, Any]:
    texts = dict(PLAIN, **changes)
    _generate(tmp, texts)
    check_rules(tmp / "alerts" / f"{SERVICE}.rules.yaml")
    proc = run_tests(tmp / "alerts" / "tests" / f"{SERVICE}.test.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return next(a for a in _alerts(tmp / "alerts" / "tests" / f"{SERVICE}.test.yaml")
                if a["exp_labels"].get("severity") == "page")


@pytest.mark.parametrize("text", ["{{", "}}", "{{ $value }}", "a {{ .Labels.x }} }} {", "{{`x`}}", "{"])
def test_annotation_with_template_text_is_literal(tmp_path, text):
    alert = _generated_and_tested(tmp_path, annotations=[text] * N_TEXTS)
    assert alert["exp_annotations"]["a0"] == text


def test_label_value_with_template_text_is_not_executed(tmp_path):
    alert = _generated_and_tested(tmp_path, labels=["{{ $value }}", "{{ $labels.service }}", "}}{"])
    assert [alert["exp_labels"][f"l{i}"] for i in range(3)] == ["{{ $value }}", "{{ $labels.service }}", "}}{"]


def test_runbook_url_and_grafana_url_with_template_text(tmp_path):
    alert = _generated_and_tested(tmp_path, runbook_tail="{{$value}}", grafana_tail="{{x}}")
    assert alert["exp_annotations"]["runbook_url"] == "https://runbooks.example.com/{{$value}}"
    assert alert["exp_annotations"]["dashboard"].startswith("https://grafana.example.com/{{x}}/d/slokit-hostile?viewPanel=")


def test_user_summary_and_description_win_over_the_generated_ones(tmp_path):
    alert = _generated_and_tested(tmp_path, summary="my summary")
    assert alert["exp_annotations"]["summary"] == "my summary"
    budget = next(a for a in _alerts(tmp_path / "alerts" / "tests" / f"{SERVICE}.test.yaml")
                  if a["exp_labels"].get("budget") == "spend")
    assert budget["exp_annotations"]["description"] == "b"


@pytest.mark.parametrize("name", ["evil\n# injected: true\n.yaml", "x--><script>alert(1)<\\script><!--.yaml",
                                  "a\u2028b\u0085c\rd.yaml", "back\\slash -- \u202e.yaml"])
def test_spec_file_name_cannot_inject_into_headers(tmp_path, name):
    specs = tmp_path / "slos"
    specs.mkdir()
    (specs / name).write_text(yaml.safe_dump(_spec(PLAIN), allow_unicode=True), encoding="utf-8")
    outputs = build_outputs(load_project([specs], CATALOG), ("operator", "mimir"))
    # rules in 3 formats, 2 test files, 3 dashboards, 2 provisioning files, runbook; and threshold test files
    assert len([p for p in outputs if ".thresholds-" not in p]) == 10
    assert any(".thresholds-" in p for p in outputs)
    for path, text in outputs.items():
        assert name not in text and name.removesuffix(".yaml") not in text, path
        if path.endswith(".yaml"):
            head = text.split("\n")[:2]
            assert all(line.startswith("# generated by slokit from ") or line.startswith("# Edit the sources")
                       for line in head), path
            yaml.safe_load(text)  # still one valid document
            assert not any(line.startswith("injected") for line in text.splitlines()), path
        elif path.endswith(".json"):
            assert "\n" not in json.loads(text)["description"]
        elif path.endswith(".md"):
            first, rest = text.split("\n", 1)
            assert first.startswith("<!-- ") and first.endswith(" -->") and first.count("-->") == 1
            assert runbook_html(text).comments == KEPT_COMMENTS and "<script" not in rest


def test_slo_named_budgets_beside_budgets_passes_promtool(tmp_path):
    spec = _spec(PLAIN)
    spec["slos"][0]["name"] = "budgets"
    specs = tmp_path / "slos"
    specs.mkdir()
    (specs / "s.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    outputs = build_outputs(load_project([specs], CATALOG))
    (tmp_path / "rules.yaml").write_text(outputs[f"alerts/{SERVICE}.rules.yaml"], encoding="utf-8")
    check_rules(tmp_path / "rules.yaml")
    names = [g["name"] for g in yaml.safe_load(outputs[f"alerts/{SERVICE}.rules.yaml"])["groups"]]
    assert len(names) == len(set(names)) == 2


# -- the escaping functions, through the renderers that read them ------------------------------------------------

@pytest.mark.parametrize("text", ["# heading", "## h", "1. list", "1) list", "- item", "+ item", "> quote", "    code",
                                  "<!-- hides the rest", "<b>bold</b>", "<img src=x onerror=alert(1)>", "**x**",
                                  "[link](https://example.com)", "![i](x.png)", "a | b", "`code`", "&lt;", "\\*",
                                  "x\n\n# later heading", "x\n===", "~~gone~~", "$x$"])
def test_markdown_text_renders_as_itself(text):
    from slokit.escape import markdown_text

    page = runbook_html(f"Before: {markdown_text(text)}\n\n{markdown_text(text)}\n")
    assert page.tags == ["p", "/p", "p", "/p"] and page.comments == 0
    assert page.paragraphs == [f"Before: {_rendered(text).strip()}", _rendered(text).strip()]


@pytest.mark.parametrize("text", ["a`b", "``", "` x `", "x\n\ny", "```"])
def test_markdown_code_keeps_backticks(text):
    from slokit.escape import markdown_code

    html = cmarkgfm.markdown_to_html(f"x {markdown_code(text)} y")
    assert html.count("<code>") == 1 and "<p>" in html and html.count("<p>") == 1


def test_markdown_fence_cannot_be_closed_from_inside():
    from slokit.escape import markdown_fence

    html = cmarkgfm.markdown_to_html("\n".join(markdown_fence(["a", "```", "# not a heading", "````"], "promql")))
    assert html.count("<pre>") == 1 and "<h1>" not in html
