-- AlterTable
ALTER TABLE "Model" ADD COLUMN     "attentionBias" BOOLEAN,
ADD COLUMN     "hub" JSONB,
ADD COLUMN     "license" TEXT,
ADD COLUMN     "serving" JSONB,
ADD COLUMN     "slidingWindow" INTEGER;
