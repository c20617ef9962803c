"""Hypothesis profiles for the fuzz tests (tests/unit/test_fuzz_*.py).

``ci`` (the default): a fixed, derandomized run of about 200 examples per test, so
the test command is reproducible and fast. ``deep``: many more random examples,
for a longer hunt: ``.venv/bin/pytest tests/unit -k fuzz --hypothesis-profile=deep``
(or ``IVR_FUZZ=deep``). Registered by tests/unit/conftest.py.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    database=None,
    # a hang is minutes; a slow shared machine can take a second over one example
    deadline=5000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.register_profile(
    "deep",
    max_examples=5_000,
    derandomize=False,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.load_profile(os.environ.get("IVR_FUZZ", "ci"))
