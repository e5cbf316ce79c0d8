-- The outbox: one row per (target, event), written in the event's transaction, and one row per attempt.

ALTER TABLE bridges ADD COLUMN max_in_flight integer NOT NULL DEFAULT 1 CHECK (max_in_flight > 0);

CREATE TABLE deliveries (
  id                bigserial PRIMARY KEY,
  target_id         text NOT NULL,
  target_kind       text NOT NULL,
  event_id          text NOT NULL,
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts          integer NOT NULL DEFAULT 0,
  rate_limited      integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz NOT NULL,
  first_failed_at   timestamptz,
  lease_owner       text,
  lease_expires_at  timestamptz,
  last_status_code  integer,
  last_error        text,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);
-- The queue of a target, in order.
CREATE INDEX deliveries_target_pending ON deliveries (target_id, id) WHERE status = 'pending';
-- What the sweep looks for.
CREATE INDEX deliveries_pending_due ON deliveries (next_attempt_at) WHERE status = 'pending';
-- The delivery log of a target, newest first.
CREATE INDEX deliveries_target_recent ON deliveries (target_id, id DESC);

CREATE TABLE delivery_attempts (
  id            bigserial PRIMARY KEY,
  delivery_id   bigint NOT NULL REFERENCES deliveries (id),
  attempted_at  timestamptz NOT NULL,
  outcome       text NOT NULL,
  status_code   integer,
  latency_ms    integer,
  error         text
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);
