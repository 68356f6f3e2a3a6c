from __future__ import annotations

import intermt_schema as im

from .conftest import ROOT

SPEC = (ROOT / "spec" / "SPEC.md").read_text(encoding="utf-8")


def test_spec_lists_every_rule_with_its_severity() -> None:
    for code, (severity, meaning) in im.RULES.items():
        assert f"| `{code}` | {severity} | {meaning} |" in SPEC


def test_spec_lists_every_intermt_dimension_with_its_scope() -> None:
    for dim in im.INTERMT:
        assert f"| `{dim.key}` | {dim.title} | {dim.scope} |" in SPEC


def test_spec_names_every_dimension_of_the_sets_the_library_ships() -> None:
    for dimension_set in (im.KTO, im.OASST):
        assert f"- `{dimension_set.name}` (1.2)" in SPEC
        for dim in dimension_set:
            assert f"`{dim.key}`" in SPEC
