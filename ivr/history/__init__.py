"""History in PostgreSQL: every call's outcome, callbacks, probes and supervisor
actions, written beside the calls (:mod:`ivr.history.sink`), under migration control
(:mod:`ivr.history.schema`), phone numbers hashed after their time
(:mod:`ivr.history.retention`)."""
