// job_watermark: reads a periodic job's watermark, creating the job with
// $initial when it has none yet, and moves it to $set when $set is given.
// Parameters: $name, $initial (datetime), $set (datetime or null).
// Rows: one: at (the watermark before this call).
// Plan: NodeUniqueIndexSeek on Job(name).
MERGE (j:Job {name: $name})
  ON CREATE SET j.at = $initial
WITH j, j.at AS at
SET j.at = coalesce($set, j.at)
RETURN at
