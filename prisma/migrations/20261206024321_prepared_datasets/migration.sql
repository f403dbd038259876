-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN     "jobId" TEXT,
ADD COLUMN     "prepared" JSONB;

-- CreateTable
CREATE TABLE "DatasetLineage" (
    "id" TEXT NOT NULL,
    "parentId" TEXT NOT NULL,
    "childId" TEXT NOT NULL,
    "jobId" TEXT,
    "ratio" DOUBLE PRECISION,
    "note" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DatasetLineage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelDataset" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL,
    "jobId" TEXT,
    "note" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ModelDataset_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "DatasetLineage_childId_idx" ON "DatasetLineage"("childId");

-- CreateIndex
CREATE UNIQUE INDEX "DatasetLineage_parentId_childId_key" ON "DatasetLineage"("parentId", "childId");

-- CreateIndex
CREATE INDEX "ModelDataset_datasetId_idx" ON "ModelDataset"("datasetId");

-- CreateIndex
CREATE UNIQUE INDEX "ModelDataset_modelId_datasetId_key" ON "ModelDataset"("modelId", "datasetId");

-- AddForeignKey
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetLineage" ADD CONSTRAINT "DatasetLineage_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetLineage" ADD CONSTRAINT "DatasetLineage_childId_fkey" FOREIGN KEY ("childId") REFERENCES "Dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetLineage" ADD CONSTRAINT "DatasetLineage_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelDataset" ADD CONSTRAINT "ModelDataset_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelDataset" ADD CONSTRAINT "ModelDataset_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelDataset" ADD CONSTRAINT "ModelDataset_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE SET NULL ON UPDATE CASCADE;
