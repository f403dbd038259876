-- AlterEnum
ALTER TYPE "DatasetKind" ADD VALUE 'benchmark';

-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN     "tasks" JSONB NOT NULL DEFAULT '{}';
