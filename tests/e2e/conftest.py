from tests.integration.conftest import (  # noqa: F401  (shared fixtures)
    _collect_garbage,
    _watchdog,
    ami,
    app,
    base_settings,
    hotlines_dir,
    redis,
    sandbox,
    settings,
    traces,
)
