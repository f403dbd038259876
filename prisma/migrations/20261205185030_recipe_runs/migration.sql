-- CreateEnum
CREATE TYPE "RecipeRunStatus" AS ENUM ('queued', 'running', 'stopped', 'succeeded', 'cancelled');

-- CreateTable
CREATE TABLE "RecipeRun" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "recipeId" TEXT NOT NULL,
    "baseModelId" TEXT NOT NULL,
    "status" "RecipeRunStatus" NOT NULL DEFAULT 'queued',
    "stageIndex" INTEGER NOT NULL DEFAULT 0,
    "executor" TEXT NOT NULL DEFAULT 'local',
    "device" TEXT NOT NULL DEFAULT 'cpu',
    "outputRoot" TEXT,
    "jobId" TEXT NOT NULL,
    "reason" TEXT,
    "requestedBy" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RecipeRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RecipeRunStage" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "trainJobId" TEXT,
    "modelId" TEXT,
    "serveJobId" TEXT,
    "gates" JSONB NOT NULL DEFAULT '[]',
    "overridden" BOOLEAN NOT NULL DEFAULT false,
    "gpuSeconds" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "RecipeRunStage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RecipeRunEvent" (
    "id" BIGSERIAL NOT NULL,
    "runId" TEXT NOT NULL,
    "fromStatus" "RecipeRunStatus",
    "toStatus" "RecipeRunStatus",
    "type" TEXT NOT NULL,
    "stageIndex" INTEGER,
    "message" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RecipeRunEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "RecipeRun_name_key" ON "RecipeRun"("name");

-- CreateIndex
CREATE UNIQUE INDEX "RecipeRun_jobId_key" ON "RecipeRun"("jobId");

-- CreateIndex
CREATE INDEX "RecipeRun_recipeId_idx" ON "RecipeRun"("recipeId");

-- CreateIndex
CREATE INDEX "RecipeRun_createdAt_idx" ON "RecipeRun"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "RecipeRunStage_runId_index_key" ON "RecipeRunStage"("runId", "index");

-- CreateIndex
CREATE INDEX "RecipeRunEvent_runId_id_idx" ON "RecipeRunEvent"("runId", "id");

-- AddForeignKey
ALTER TABLE "RecipeRun" ADD CONSTRAINT "RecipeRun_recipeId_fkey" FOREIGN KEY ("recipeId") REFERENCES "Recipe"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RecipeRun" ADD CONSTRAINT "RecipeRun_baseModelId_fkey" FOREIGN KEY ("baseModelId") REFERENCES "Model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RecipeRun" ADD CONSTRAINT "RecipeRun_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RecipeRunStage" ADD CONSTRAINT "RecipeRunStage_runId_fkey" FOREIGN KEY ("runId") REFERENCES "RecipeRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RecipeRunStage" ADD CONSTRAINT "RecipeRunStage_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RecipeRunEvent" ADD CONSTRAINT "RecipeRunEvent_runId_fkey" FOREIGN KEY ("runId") REFERENCES "RecipeRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;
