-- Lists page by keyset: (createdAt, id) newest first. These indexes hold each list in exactly
-- that order, so a page (first or deep) is an index range read up to its limit, with no sort.
-- CreateIndex
CREATE INDEX "EvalRun_createdAt_id_idx" ON "EvalRun"("createdAt" DESC, "id");

-- CreateIndex
CREATE INDEX "Job_createdAt_id_idx" ON "Job"("createdAt" DESC, "id");
