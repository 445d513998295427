-- Why: flows and their immutable versions, and the run history the product is
-- about: every accepted event, the run it started, each step's rendered input,
-- output and state, and one row per attempt. River's job rows are pruned by River;
-- this history is ours and stays until retention removes it.
CREATE TABLE flows (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (name <> ''),
    enabled         boolean NOT NULL DEFAULT true,
    current_version integer NOT NULL DEFAULT 1,
    webhook_token   text NOT NULL UNIQUE,
    draft           jsonb,
    sample          jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flows_workspace_idx ON flows (workspace_id, created_at);

CREATE TABLE flow_versions (
    flow_id      uuid NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    version      integer NOT NULL CHECK (version > 0),
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    definition   jsonb NOT NULL,
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (flow_id, version)
);

CREATE TABLE events (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    flow_id         uuid NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    idempotency_key text,
    source          text NOT NULL DEFAULT 'webhook' CHECK (source IN ('webhook', 'manual', 'replay', 'test', 'app')),
    content_type    text NOT NULL DEFAULT '',
    headers         jsonb NOT NULL DEFAULT '{}',
    payload         jsonb,
    received_at     timestamptz NOT NULL DEFAULT now()
);
-- One event per idempotency key per flow: the constraint, not a lookup, decides.
CREATE UNIQUE INDEX events_idempotency_key ON events (flow_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_received_idx ON events (workspace_id, received_at);

CREATE TABLE runs (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    flow_id      uuid NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    flow_version integer NOT NULL,
    event_id     uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
    is_test      boolean NOT NULL DEFAULT false,
    replay_of    uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);
CREATE INDEX runs_workspace_created_idx ON runs (workspace_id, created_at DESC, id DESC);
CREATE INDEX runs_flow_created_idx ON runs (flow_id, created_at DESC, id DESC);
CREATE INDEX runs_status_created_idx ON runs (workspace_id, status, created_at DESC, id DESC);
CREATE UNIQUE INDEX runs_event_idx ON runs (event_id);

CREATE TABLE run_steps (
    run_id       uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id      text NOT NULL,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    action       text NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled')),
    attempts     integer NOT NULL DEFAULT 0,
    input        jsonb,
    output       jsonb,
    error        text,
    job_id       bigint,
    position     integer NOT NULL DEFAULT 0,
    started_at   timestamptz,
    finished_at  timestamptz,
    duration_ms  integer,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE step_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id      text NOT NULL,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    status       text NOT NULL CHECK (status IN ('succeeded', 'failed', 'retrying', 'snoozed', 'cancelled')),
    error        text,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    duration_ms  integer NOT NULL
);
CREATE INDEX step_attempts_run_idx ON step_attempts (run_id, step_id, attempt);
