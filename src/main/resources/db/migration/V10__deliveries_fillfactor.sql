-- A delivery row is updated twice after its insert (its lease, then its result). Free space on each
-- page lets the lease update stay on the page, without new index entries (HOT), as it changes no
-- indexed column.
ALTER TABLE deliveries SET (fillfactor = 70);
