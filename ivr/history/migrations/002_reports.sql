-- What the daily and monthly reports need beyond 001 (ivr.reports).
-- calls.rule: the first rule that acted for the caller (no-agent | max-wait) and
-- what it did (callback, overflow, message); calls.self_service: the caller heard
-- an information page and the call ended without a queue or a transfer;
-- calls.menu_events: {"visits": {menu: n}, "timeouts": {menu: n}, "invalid": {menu: n}}.
-- staffing: each queue's members sampled once a minute (staffed = taking calls:
-- available, ringing, in a call or in wrap-up).

ALTER TABLE calls
    ADD COLUMN rule         text,
    ADD COLUMN rule_action  text,
    ADD COLUMN self_service boolean,
    ADD COLUMN menu_events  jsonb;

CREATE TABLE staffing (
    queue      text NOT NULL,
    at         timestamptz NOT NULL,
    staffed    integer,
    available  integer,
    paused     integer,
    PRIMARY KEY (queue, at)
);
CREATE INDEX staffing_at ON staffing (at);
CREATE INDEX probes_at ON probes (at);  -- a day of every hotline's probes
