-- AlterTable
ALTER TABLE "Model" ADD COLUMN     "teamId" TEXT;

-- AlterTable
ALTER TABLE "Adapter" ADD COLUMN     "teamId" TEXT;

-- AlterTable
ALTER TABLE "Endpoint" ADD COLUMN     "teamId" TEXT;
