CREATE TABLE `task_attachments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` text NOT NULL,
	`filename` text NOT NULL,
	`stored_path` text NOT NULL,
	`content_type` text,
	`size` integer DEFAULT 0 NOT NULL,
	`uploaded_by` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_attachments_task` ON `task_attachments` (`task_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `kanban_notify_subs` ADD `notifier_profile` text;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `usage_report_path` text;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `usage_report_ingested_at` integer;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `estimated_cost_usd` real;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `cost_status` text;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `cost_source` text;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `input_tokens` integer;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `output_tokens` integer;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `cache_read_tokens` integer;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `cache_write_tokens` integer;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `reasoning_tokens` integer;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `total_tokens` integer;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `api_calls` integer;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `model` text;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `provider` text;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `usage_session_id` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `branch_name` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `project_id` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `model_override` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `goal_mode` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tasks` ADD `goal_max_turns` integer;--> statement-breakpoint
ALTER TABLE `tasks` ADD `session_id` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `block_kind` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `block_recurrences` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tasks` ADD `plan_audit_required` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tasks` ADD `plan_audit_max_rounds` integer;--> statement-breakpoint
ALTER TABLE `tasks` ADD `budget_usd` real;--> statement-breakpoint
ALTER TABLE `tasks` ADD `budget_spent_usd` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tasks` ADD `budget_unknown_cost_runs` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `idx_tasks_session_id` ON `tasks` (`session_id`);