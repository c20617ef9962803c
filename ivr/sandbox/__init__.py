"""Development tools: the local sandbox PBX (:mod:`ivr.sandbox.pbx`, its Redis in
:mod:`ivr.sandbox.redis_server`, what both use in :mod:`ivr.sandbox.procs`), the timing check
that keeps its prompts in real time (:mod:`ivr.sandbox.timing`) and simulated citizens
(:mod:`ivr.sandbox.simcall`).

The server never imports this package; ``ivr sandbox``, ``ivr call``, the tests and the
benchmarks do.
"""
