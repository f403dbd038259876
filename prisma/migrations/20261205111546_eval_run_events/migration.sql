-- CreateTable
CREATE TABLE "EvalRunEvent" (
    "id" BIGSERIAL NOT NULL,
    "evalRunId" TEXT NOT NULL,
    "fromStatus" "EvalStatus",
    "toStatus" "EvalStatus" NOT NULL,
    "message" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EvalRunEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "EvalRunEvent_evalRunId_id_idx" ON "EvalRunEvent"("evalRunId", "id");

-- AddForeignKey
ALTER TABLE "EvalRunEvent" ADD CONSTRAINT "EvalRunEvent_evalRunId_fkey" FOREIGN KEY ("evalRunId") REFERENCES "EvalRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Runs recorded before the history existed start theirs with the status they have now.
INSERT INTO "EvalRunEvent" ("evalRunId", "fromStatus", "toStatus", "message", "createdAt")
SELECT "id", NULL, "status", 'status at the time eval runs began to keep a history', "updatedAt" FROM "EvalRun";
