-- History of every call, callback, probe and supervisor action (ivr.history).
-- Written by upserts keyed as below, so a record written twice is written once.
-- Phone numbers are kept for [history] keep_numbers_days, then replaced by
-- number_hash (HMAC-SHA256 keyed by [history] number_key) by `ivr history purge`.

CREATE TABLE calls (
    uniqueid     text PRIMARY KEY,          -- Asterisk's channel uniqueid
    hotline      text,
    menu_path    text[],                    -- menus visited and digits pressed, in order
    queue        text,
    topic        text,
    arrived_at   timestamptz,
    answered_at  timestamptz,
    ended_at     timestamptz,
    outcome      text,                      -- queue, transfer, goodbye, hangup, closed, error, answered, abandoned
    agent        text,
    wait_s       double precision,
    talk_s       double precision,
    number       text,                      -- the caller's number until the retention job
    number_hash  text,
    language     text,
    probe        boolean NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_arrived_at ON calls (arrived_at);
CREATE INDEX calls_hotline_queue ON calls (hotline, queue);

CREATE TABLE callbacks (
    id                text PRIMARY KEY,
    queue             text,
    hotline           text,
    call_uniqueid     text,
    requested_at      timestamptz,
    status            text,                 -- pending, dialing, connected, failed, cancelled
    attempts          integer,
    first_attempt_at  timestamptz,
    last_attempt_at   timestamptz,
    connected_at      timestamptz,
    last_result       text,
    number            text,
    number_hash       text,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX callbacks_requested_at ON callbacks (requested_at);

CREATE TABLE callback_attempts (
    callback_id  text NOT NULL,
    attempt      integer NOT NULL,
    at           timestamptz,
    result       text,
    PRIMARY KEY (callback_id, attempt)
);

CREATE TABLE probes (
    id           text PRIMARY KEY,
    hotline      text,
    at           timestamptz,
    ok           boolean,
    result       text,
    answer_s     double precision,
    detail       jsonb,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX probes_hotline_at ON probes (hotline, at);

CREATE TABLE actions (
    id           text PRIMARY KEY,
    at           timestamptz,
    token_id     text,
    token_name   text,
    action       text,
    queue        text,
    agent        text,
    callback     text,
    result       text,
    detail       text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_at ON actions (at);
