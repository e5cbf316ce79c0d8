-- Platform credentials of a bridge (bot tokens, signing secrets), one JSON object sealed with the master key.
ALTER TABLE bridges ADD COLUMN credentials_enc bytea;

-- The messages deliveries created on a platform: which of our events each foreign message id stands
-- for, per bridge (threads, edits and deletes name it; hearing it again is an echo). A coalesced post
-- stands for several events; a message split in parts is known by its first part.
CREATE TABLE bridge_messages (
  bridge_id   text NOT NULL,
  foreign_id  text NOT NULL,
  event_id    text NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (bridge_id, foreign_id, event_id)
);
CREATE INDEX bridge_messages_event ON bridge_messages (bridge_id, event_id);
