-- The GPU scheduler ranks the jobs waiting for admission lane by lane (executor, GPU type,
-- priority, team; oldest first) on every pass: a partial index holds exactly those rows in that
-- order, so a pass reads a few index entries per lane instead of every queued job. (Partial
-- indexes are not expressible in schema.prisma; this one lives in SQL only.)
CREATE INDEX "Job_queue_lanes_idx" ON "Job" ("executor", "gpuType", "priority", "teamId", "queuedAt", "id")
  INCLUDE ("gpus", "kind")
  WHERE "status" = 'queued' AND "admittedAt" IS NULL;
