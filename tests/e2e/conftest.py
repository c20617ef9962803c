from tests.integration.conftest import (  # noqa: F401  (shared fixtures)
    ami,
    app,
    base_settings,
    hotlines_dir,
    redis,
    sandbox,
    settings,
    traces,
)
