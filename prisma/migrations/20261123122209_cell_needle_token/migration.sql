-- AlterTable
ALTER TABLE "EvalCell" ADD COLUMN     "needleToken" INTEGER;
