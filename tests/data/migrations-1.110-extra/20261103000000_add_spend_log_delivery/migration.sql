-- DropTable
DROP TABLE "LiteLLM_AccountingDelivery";

-- DropTable
DROP TABLE "LiteLLM_AccountingEvent";

-- DropEnum
DROP TYPE "AccountingDeliveryTarget";

-- DropEnum
DROP TYPE "AccountingEventKind";

-- CreateTable
CREATE TABLE "LiteLLM_SpendLogDelivery" (
    "delivery_id" TEXT NOT NULL,
    "request_id" TEXT NOT NULL,
    "state" "AccountingDeliveryState" NOT NULL DEFAULT 'pending',
    "accounting_payload" JSONB NOT NULL,
    "is_batch" BOOLEAN NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "applied_at" TIMESTAMP(3),
    "last_error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LiteLLM_SpendLogDelivery_pkey" PRIMARY KEY ("delivery_id")
);

-- CreateIndex
CREATE INDEX "LiteLLM_SpendLogDelivery_state_next_attempt_at_idx" ON "LiteLLM_SpendLogDelivery"("state", "next_attempt_at");

-- CreateIndex
CREATE INDEX "LiteLLM_SpendLogDelivery_state_applied_at_idx" ON "LiteLLM_SpendLogDelivery"("state", "applied_at");

-- CreateIndex
CREATE INDEX "LiteLLM_SpendLogDelivery_request_id_idx" ON "LiteLLM_SpendLogDelivery"("request_id");
