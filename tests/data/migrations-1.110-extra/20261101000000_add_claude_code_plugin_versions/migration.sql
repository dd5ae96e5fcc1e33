-- AlterTable
ALTER TABLE "LiteLLM_ClaudeCodePluginTable" ADD COLUMN     "anonymous_download_count" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "LiteLLM_ClaudeCodePluginVersion" (
    "id" TEXT NOT NULL,
    "plugin_id" TEXT NOT NULL,
    "version" TEXT,
    "description" TEXT,
    "manifest_json" TEXT,
    "published_at" TIMESTAMP(3),
    "published_by" TEXT,
    "archive_available" BOOLEAN NOT NULL DEFAULT false,
    "content" BYTEA,

    CONSTRAINT "LiteLLM_ClaudeCodePluginVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiteLLM_ClaudeCodePluginDownload" (
    "id" BIGSERIAL NOT NULL,
    "plugin_id" TEXT NOT NULL,
    "downloaded_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "version" TEXT,
    "digest" TEXT NOT NULL,
    "authenticated" BOOLEAN NOT NULL,
    "user_id" TEXT,
    "user_email" TEXT,
    "key_alias" TEXT,
    "team_id" TEXT,
    "team_alias" TEXT,

    CONSTRAINT "LiteLLM_ClaudeCodePluginDownload_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiteLLM_ClaudeCodePluginUpload" (
    "plugin_name" TEXT NOT NULL,
    "content" BYTEA NOT NULL,

    CONSTRAINT "LiteLLM_ClaudeCodePluginUpload_pkey" PRIMARY KEY ("plugin_name")
);

-- CreateIndex
CREATE INDEX "LiteLLM_ClaudeCodePluginVersion_plugin_id_published_at_idx" ON "LiteLLM_ClaudeCodePluginVersion"("plugin_id", "published_at");

-- CreateIndex
CREATE UNIQUE INDEX "LiteLLM_ClaudeCodePluginVersion_plugin_id_version_key" ON "LiteLLM_ClaudeCodePluginVersion"("plugin_id", "version");

-- CreateIndex
CREATE INDEX "LiteLLM_ClaudeCodePluginDownload_plugin_id_id_idx" ON "LiteLLM_ClaudeCodePluginDownload"("plugin_id", "id");

-- AddForeignKey
ALTER TABLE "LiteLLM_ClaudeCodePluginVersion" ADD CONSTRAINT "LiteLLM_ClaudeCodePluginVersion_plugin_id_fkey" FOREIGN KEY ("plugin_id") REFERENCES "LiteLLM_ClaudeCodePluginTable"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiteLLM_ClaudeCodePluginDownload" ADD CONSTRAINT "LiteLLM_ClaudeCodePluginDownload_plugin_id_fkey" FOREIGN KEY ("plugin_id") REFERENCES "LiteLLM_ClaudeCodePluginTable"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiteLLM_ClaudeCodePluginUpload" ADD CONSTRAINT "LiteLLM_ClaudeCodePluginUpload_plugin_name_fkey" FOREIGN KEY ("plugin_name") REFERENCES "LiteLLM_ClaudeCodePluginTable"("name") ON DELETE CASCADE ON UPDATE CASCADE;
