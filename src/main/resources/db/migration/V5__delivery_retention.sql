-- Finished deliveries (delivered, failed, cancelled) are kept for deliveries.retention_hours as the
-- delivery log, then pruned; this index finds them without scanning the outbox.
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE status <> 'pending';
