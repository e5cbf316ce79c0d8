-- The fence of the delivery side across nodes (README, "Running a cluster").
--
-- A node's claims are valid while its row here is: it renews expires_at every heartbeat, from
-- PostgreSQL's clock, and stops sending by itself once a renewal is older than the lease.
CREATE TABLE relay_nodes (
  node_id     text PRIMARY KEY,
  http_url    text NOT NULL,
  started_at  timestamptz NOT NULL,
  renewed_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);

-- Who may claim a target's queue: one node at a time. A node takes a target over only when its holder
-- released it or the holder's lease in relay_nodes ran out; every take-over counts a new epoch.
CREATE TABLE target_owners (
  target_id    text PRIMARY KEY,
  target_kind  text NOT NULL,
  node_id      text NOT NULL,
  epoch        bigint NOT NULL,
  acquired_at  timestamptz NOT NULL
);
CREATE INDEX target_owners_node ON target_owners (node_id);
