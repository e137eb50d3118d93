-- One key's raw events are read as a time range through usage_events_ts_idx, filtered by key, as
-- on SQLite (its migration 0015): the (key_id, ts) index only cost disk and a write per event.
DROP INDEX "usage_events_key_ts_idx";
