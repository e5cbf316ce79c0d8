-- What the console's lists and filters read (README-api).
--
-- The audit log's filters by resource, by user and by time: each filter given is a plain comparison
-- in its own statement, read in seq order, so (column, seq) serves both orders as an index scan with
-- no sort: a resource's or a user's events are one range of its index. A time range reads the
-- timestamp index (events are written in time order, so it is a narrow range).
CREATE INDEX audit_events_resource ON audit_events (resource_id, seq) WHERE resource_id IS NOT NULL;
CREATE INDEX audit_events_user ON audit_events (user_id, seq) WHERE user_id IS NOT NULL;
CREATE INDEX audit_events_timestamp ON audit_events (timestamp);
-- The bridges list pages in (created_at, id) order, in every state (deleted ones too).
CREATE INDEX bridges_listed ON bridges (created_at, id);
-- A target's cancelled deliveries, so its delivery counters are counts of index entries only (see
-- DeliveryCounters): queued and failed have their partial indexes already (V2, V14). Cancelled rows
-- are few; a result update changes status, which the partial indexes' predicates name already, so it
-- is not a HOT update with or without this index, and a row that is not cancelled adds no entry.
CREATE INDEX deliveries_target_cancelled ON deliveries (target_id) WHERE status = 'cancelled';
