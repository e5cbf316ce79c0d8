-- Events a paused subscription could not queue (beyond its queue_limit), counted per pause episode.
ALTER TABLE webhooks ADD COLUMN dropped_while_paused integer NOT NULL DEFAULT 0;
CREATE INDEX webhooks_categories ON webhooks USING gin (categories) WHERE deleted_at IS NULL;
