-- DropIndex
DROP INDEX "EvalCell_evalRunId_contextLength_depth_sample_key";

-- AlterTable
ALTER TABLE "EvalCell" ADD COLUMN     "task" TEXT NOT NULL DEFAULT '';

-- CreateIndex
CREATE UNIQUE INDEX "EvalCell_evalRunId_task_contextLength_depth_sample_key" ON "EvalCell"("evalRunId", "task", "contextLength", "depth", "sample");
