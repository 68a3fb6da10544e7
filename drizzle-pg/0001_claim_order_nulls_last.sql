DROP INDEX "idx_tasks_claim_order";--> statement-breakpoint
CREATE INDEX "idx_tasks_claim_order" ON "tasks" USING btree ("status","priority" DESC NULLS LAST,"created_at","id");