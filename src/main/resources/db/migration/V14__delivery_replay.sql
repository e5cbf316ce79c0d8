-- Replay (README, "Replay and recovery"): a resend or a recovery queues a new delivery of the same
-- event and links the two: resent_from on the new row names the one it repeats, resent_as on that one
-- names its latest repeat. A failed delivery with resent_as set is not recovered again. Neither is a
-- foreign key: the log is pruned by age, and a repeat may outlive the delivery it repeats.
ALTER TABLE deliveries ADD COLUMN resent_from bigint, ADD COLUMN resent_as bigint;
-- What recovery looks for and the log's status=failed pages read: a target's failures, in order.
-- Failures are few, so the index is small; no column a lease or a result changes is in it but status.
CREATE INDEX deliveries_target_failed ON deliveries (target_id, id) WHERE status = 'failed';
