-- Webhook subscriptions (DESIGN.md §3): signed, filtered event notifications. Deliveries of a
-- subscription go through the same outbox and queue actors as bridges (target_kind 'webhook').
CREATE TABLE webhooks (
  id                          text PRIMARY KEY,
  name                        text NOT NULL,
  url                         text NOT NULL,
  categories                  text[] NOT NULL,
  filters                     jsonb NOT NULL DEFAULT '{}',
  headers                     jsonb NOT NULL DEFAULT '{}',
  secret_enc                  bytea NOT NULL,
  previous_secret_enc         bytea,
  previous_secret_expires_at  timestamptz,
  paused                      boolean NOT NULL DEFAULT false,
  queue_limit                 integer NOT NULL DEFAULT 1000 CHECK (queue_limit > 0),
  created_at                  timestamptz NOT NULL,
  updated_at                  timestamptz NOT NULL,
  deleted_at                  timestamptz
);
CREATE INDEX webhooks_live ON webhooks (created_at) WHERE deleted_at IS NULL;
