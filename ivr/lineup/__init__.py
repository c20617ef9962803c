"""The line: live callers and pending callbacks together.

Above the pure ``queues`` and ``callbacks`` cores (which never import each other):
places in line (:mod:`~ivr.lineup.places`), what a waiting caller is told
(:mod:`~ivr.lineup.view`), when a callback's place comes up
(:mod:`~ivr.lineup.dispatch_policy`), the callback dispatcher
(:mod:`~ivr.lineup.dispatcher`, with the agents it holds in :mod:`~ivr.lineup.holds`
and what it is given in :mod:`~ivr.lineup.ports`) and the live queues fed by the
AMI (:mod:`~ivr.lineup.live`).
"""
