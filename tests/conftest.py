from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

collect_ignore = ["typing", "trainers"]  # checked by mypy; run in their own environment

PROPERTY_COUNTS: dict[str, Counter[str]] = {}
"""What each property test exercised, by case (filled by ``count_cases``)."""


def count_cases(test: str) -> Counter[str]:
    """The counter a property test adds its cases to; the totals are printed at the end
    of the run, and the test asserts on them itself."""
    return PROPERTY_COUNTS.setdefault(test, Counter())


def any_trees(**options: Any) -> Any:
    """Trees of every version: 1.0 ones, ones using what 1.1 adds, and ones using what
    1.1 and 1.2 add."""
    from hypothesis import strategies as st

    from intermt_schema.testing import trees

    return st.sampled_from(["1.0", "1.1", "1.2"]).flatmap(
        lambda v: trees(with_tools_and_media=v != "1.0", with_dimension_sets=v == "1.2", **options)
    )


def count_features(test: str, *items: Any) -> None:
    """Count in ``test``'s cases the trees of each version and the 1.1 and 1.2 features
    seen."""
    counts = count_cases(test)
    for tree in items:
        counts[f"trees {tree.schema_version}"] += 1
        counts["declared dimension sets"] += tree.meta.dimension_sets is not None
        counts["real scores"] += sum(type(r.score) is float for r in tree.ratings)
        roles = {n.id: n.role for n in tree.nodes}
        counts["ratings on questions"] += sum(roles.get(r.target) == "user" for r in tree.ratings)
        for node in tree.nodes:
            counts["tool messages"] += node.role == "tool"
            counts["declared tools"] += node.tools is not None
            for part in node.content:
                name = type(part).__name__
                if name not in ("TextPart", "ImagePart"):
                    counts[name] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if PROPERTY_COUNTS:
        terminalreporter.section("cases the property tests exercised")
        for test, counts in sorted(PROPERTY_COUNTS.items()):
            shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            terminalreporter.write_line(f"{test}: {shown}")


ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
EXAMPLES = ROOT / "examples" / "data"


def fixture_path(*parts: str) -> Path:
    """A file under ../shared/fixtures. When it is absent the test is skipped, unless
    ``INTERMT_REQUIRE_FIXTURES`` is set (CI sets it): then the test fails."""
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        message = f"real-data fixture {path} is not present (../shared/fixtures is absent)"
        if os.environ.get("INTERMT_REQUIRE_FIXTURES"):
            pytest.fail(message)
        pytest.skip(message)
    return path
