-- No query reads usage_day by bucket alone any more (the per-key and per-operation day sums answer
-- ranges over every key) and retention never drops days: the index only cost disk and writes.
DROP INDEX IF EXISTS `usage_day_bucket_idx`;
