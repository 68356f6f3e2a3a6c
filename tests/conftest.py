from __future__ import annotations

import os
from pathlib import Path

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
