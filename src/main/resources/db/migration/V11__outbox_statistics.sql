-- The outbox and the event log grow and churn fast: analyze and vacuum them after a small share of
-- their rows changed, so the planner keeps choosing the queue-head index (target_id, id) and dead
-- versions of delivered rows do not pile up in it. Operators should also keep autovacuum_naptime low
-- (dev mode uses 5 s); see README, "Running against your PostgreSQL".
ALTER TABLE deliveries SET (autovacuum_analyze_scale_factor = 0.005, autovacuum_analyze_threshold = 1000,
                            autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
ALTER TABLE delivery_attempts SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE events SET (autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE inbound_dedupe SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
