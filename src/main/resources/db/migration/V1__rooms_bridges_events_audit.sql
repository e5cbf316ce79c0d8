-- Rooms, bridges, participants, the event log, inbound dedupe and the audit log.
-- Times are written by the node (its clock), so tests can drive them.

CREATE TABLE rooms (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL
);

CREATE TABLE bridges (
  id                          text PRIMARY KEY,
  room_id                     text NOT NULL REFERENCES rooms (id),
  transport                   text NOT NULL,
  direction                   text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'both')),
  name                        text NOT NULL,
  config                      jsonb NOT NULL DEFAULT '{}',
  secret_enc                  bytea NOT NULL,
  previous_secret_enc         bytea,
  previous_secret_expires_at  timestamptz,
  paused                      boolean NOT NULL DEFAULT false,
  created_at                  timestamptz NOT NULL,
  updated_at                  timestamptz NOT NULL,
  deleted_at                  timestamptz
);
CREATE INDEX bridges_room ON bridges (room_id) WHERE deleted_at IS NULL;

-- Per-bridge inbound counters, added to in batches by each node.
CREATE TABLE bridge_counters (
  bridge_id           text PRIMARY KEY REFERENCES bridges (id),
  accepted            bigint NOT NULL DEFAULT 0,
  duplicates          bigint NOT NULL DEFAULT 0,
  signature_failures  bigint NOT NULL DEFAULT 0,
  rejected_paused     bigint NOT NULL DEFAULT 0,
  last_inbound_at     timestamptz
);

-- Native participants are keyed by their fqid; shadows by (bridge_id, external_id), with a derived fqid.
CREATE TABLE participants (
  id            text PRIMARY KEY,
  room_id       text NOT NULL REFERENCES rooms (id),
  fqid          text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('native', 'shadow')),
  bridge_id     text REFERENCES bridges (id),
  external_id   text,
  display_name  text,
  avatar_url    text,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  UNIQUE (room_id, fqid),
  UNIQUE (bridge_id, external_id)
);

CREATE TABLE events (
  seq               bigserial PRIMARY KEY,
  id                text NOT NULL UNIQUE,
  room_id           text NOT NULL REFERENCES rooms (id),
  sender_id         text NOT NULL REFERENCES participants (id),
  content           jsonb NOT NULL,
  thread_id         text,
  reply_to          text,
  reply_to_external_id text,
  origin_bridge_id  text REFERENCES bridges (id),
  external_id       text,
  created_at        timestamptz NOT NULL
);
CREATE INDEX events_room_seq ON events (room_id, seq);
CREATE INDEX events_origin_external ON events (origin_bridge_id, external_id) WHERE origin_bridge_id IS NOT NULL;

CREATE TABLE inbound_dedupe (
  bridge_id          text NOT NULL,
  external_event_id  text NOT NULL,
  event_id           text NOT NULL,
  received_at        timestamptz NOT NULL,
  PRIMARY KEY (bridge_id, external_event_id)
);
CREATE INDEX inbound_dedupe_received ON inbound_dedupe (received_at);

CREATE TABLE audit_events (
  seq              bigserial PRIMARY KEY,
  event_id         text NOT NULL UNIQUE,
  timestamp        timestamptz NOT NULL,
  category         text NOT NULL,
  action           text NOT NULL,
  user_id          text,
  resource_id      text,
  payload          jsonb NOT NULL DEFAULT '{}',
  service_account  text,
  ip               text
);
CREATE INDEX audit_events_category ON audit_events (category, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
