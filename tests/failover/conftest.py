"""The fail-over proofs (README "Fail-over"): each kills one real part with SIGKILL
while calls are in progress and counts what the citizens lost. They run from
``scripts/failover.sh``, not from the test command (they take minutes)."""

from __future__ import annotations

import pytest

from tests.failover.two_instances import resolver  # noqa: F401  (hagi:// SRV records)
from tests.failover.two_nodes import rig  # noqa: F401  (node b and Kamailio)
from tests.integration.conftest import (  # noqa: F401  (fixtures shared with the sandbox tests)
    ami,
    base_settings,
    call,
    hotlines_dir,
    redis,
    sandbox,
    settings,
    traces,
)

pytestmark = pytest.mark.failover


@pytest.fixture(autouse=True)
def _watchdog(task_watchdog: None) -> None:
    """Print every asyncio task's stack before a hung fail-over test is stopped."""
