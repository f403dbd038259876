-- CreateEnum
CREATE TYPE "JobPriority" AS ENUM ('high', 'normal', 'low');

-- AlterTable
ALTER TABLE "Adapter" ADD COLUMN     "jobId" TEXT;

-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "admittedAt" TIMESTAMP(3),
ADD COLUMN     "estimate" JSONB,
ADD COLUMN     "gpuEndedAt" TIMESTAMP(3),
ADD COLUMN     "gpuStartedAt" TIMESTAMP(3),
ADD COLUMN     "gpuType" TEXT,
ADD COLUMN     "gpus" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "priority" "JobPriority" NOT NULL DEFAULT 'normal',
ADD COLUMN     "quotaOverride" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "teamId" TEXT;

-- CreateTable
CREATE TABLE "Team" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "weight" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Team_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TeamMember" (
    "teamId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'member',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TeamMember_pkey" PRIMARY KEY ("teamId","userId")
);

-- CreateTable
CREATE TABLE "GpuQuota" (
    "id" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "gpuType" TEXT NOT NULL,
    "period" TEXT NOT NULL DEFAULT 'month',
    "gpuHours" DOUBLE PRECISION,
    "maxGpus" INTEGER,
    "updatedBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GpuQuota_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GpuPrice" (
    "gpuType" TEXT NOT NULL,
    "pricePerHour" DOUBLE PRECISION NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'USD',
    "peakFlops" DOUBLE PRECISION,
    "note" TEXT,
    "updatedBy" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GpuPrice_pkey" PRIMARY KEY ("gpuType")
);

-- CreateTable
CREATE TABLE "GpuPool" (
    "executor" TEXT NOT NULL,
    "gpuType" TEXT NOT NULL,
    "gpus" INTEGER NOT NULL,
    "nodes" INTEGER NOT NULL DEFAULT 1,
    "foreignUsed" INTEGER NOT NULL DEFAULT 0,
    "reportedBy" TEXT NOT NULL,
    "reportedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GpuPool_pkey" PRIMARY KEY ("executor","gpuType")
);

-- CreateIndex
CREATE UNIQUE INDEX "Team_name_key" ON "Team"("name");

-- CreateIndex
CREATE INDEX "TeamMember_userId_idx" ON "TeamMember"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "GpuQuota_teamId_gpuType_key" ON "GpuQuota"("teamId", "gpuType");

-- CreateIndex
CREATE INDEX "Job_status_admittedAt_gpuType_idx" ON "Job"("status", "admittedAt", "gpuType");

-- CreateIndex
CREATE INDEX "Job_teamId_gpuEndedAt_idx" ON "Job"("teamId", "gpuEndedAt");

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TeamMember" ADD CONSTRAINT "TeamMember_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TeamMember" ADD CONSTRAINT "TeamMember_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GpuQuota" ADD CONSTRAINT "GpuQuota_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- GPU jobs queued or running before the scheduler existed keep going: they count as admitted, with the GPUs their spec recorded.
UPDATE "Job" SET
  "gpus" = CASE WHEN jsonb_typeof("spec"->'gpus') = 'number' THEN ("spec"->>'gpus')::int ELSE 0 END,
  "gpuType" = COALESCE(lower("spec"->>'gpuType'), 'cpu'),
  "admittedAt" = "queuedAt"
WHERE "kind" IN ('train', 'lora-extract', 'lora-merge', 'serve');
