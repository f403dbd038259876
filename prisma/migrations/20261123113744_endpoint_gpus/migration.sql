-- AlterTable
ALTER TABLE "Endpoint" ADD COLUMN     "gpuCount" INTEGER,
ADD COLUMN     "gpuType" TEXT;
