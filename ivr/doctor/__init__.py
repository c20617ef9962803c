"""``ivr doctor``: what a deployment beside an existing Asterisk is missing, each in
plain words with its fix.

:mod:`~ivr.doctor.findings` (one finding, rendering, exit code; pure),
:mod:`~ivr.doctor.checks` (what the server needs compared with what was found; pure),
:mod:`~ivr.doctor.asterisk` (asks Asterisk over the AMI),
:mod:`~ivr.doctor.fastagi` (whether Asterisk reaches the application by FastAGI),
:mod:`~ivr.doctor.run` (Redis, PostgreSQL, the clocks, and every check in turn).
"""
