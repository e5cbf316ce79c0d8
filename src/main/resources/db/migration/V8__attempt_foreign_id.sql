-- The id the foreign side gave the message an attempt created (threads, edits, echo suppression).
ALTER TABLE delivery_attempts ADD COLUMN foreign_id text;
