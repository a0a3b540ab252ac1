"""A newcomer's first hour: the policy the code cites is summarised inside the repository, and
the README points nowhere outside it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["schools", "notifications", "enrollment", "scheduling", "attendance", "billing",
          "oversight", "portal", "templates"]


def _cited_rules() -> set[str]:
    cited = set()
    for stage in STAGES:
        for path in (ROOT / stage).rglob("*"):
            if path.suffix in {".py", ".html"} and "migrations" not in path.parts:
                cited |= set(re.findall(r"\bR(?:1[0-5]|[1-9])\b", path.read_text("utf-8")))
    return cited


def test_every_rule_the_code_cites_is_summarised_in_docs():
    policy = (ROOT / "docs" / "policy.md").read_text("utf-8")
    summarised = set(re.findall(r"^## (R\d+)\b", policy, re.M))
    assert summarised == {f"R{n}" for n in range(1, 16)}
    assert _cited_rules() <= summarised


def test_readme_stands_on_its_own():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "docs/policy.md" in readme
    assert "../" not in readme
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if "://" not in target:
            assert (ROOT / target).exists(), target


def test_bench_migrates_before_it_runs():
    makefile = (ROOT / "Makefile").read_text("utf-8")
    bench = re.search(r"^bench:(.*)$", makefile, re.M).group(1)
    assert "migrate" in bench.split()
