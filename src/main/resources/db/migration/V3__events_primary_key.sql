-- Events are looked up by id and read in room order: the id is the primary key and the sequence is
-- indexed only with its room, one index fewer to maintain on the hottest insert.
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events DROP CONSTRAINT events_id_key;
ALTER TABLE events ADD PRIMARY KEY (id);
ALTER TABLE events ALTER COLUMN seq SET NOT NULL;
