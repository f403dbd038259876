-- CreateTable
CREATE TABLE "DatasetDocument" (
    "id" TEXT NOT NULL,
    "datasetId" TEXT NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "text" TEXT NOT NULL,

    CONSTRAINT "DatasetDocument_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DatasetDocument_datasetId_ordinal_key" ON "DatasetDocument"("datasetId", "ordinal");

-- AddForeignKey
ALTER TABLE "DatasetDocument" ADD CONSTRAINT "DatasetDocument_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;
