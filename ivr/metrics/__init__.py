"""Prometheus metrics at ``/metrics`` (names prefixed ``ivr_``), one registry per server.

What the call path touches is a counter increment or a histogram observation
(:mod:`ivr.metrics.instruments`); everything else (callers waiting, agents by
state, callbacks by state, AMI reconnects, Redis errors, traces and history
records waiting) is read when Prometheus scrapes (:mod:`ivr.metrics.collector`).
Who may scrape: :mod:`ivr.metrics.http`.
"""
