CREATE TABLE `kanban_notify_subs` (
	`task_id` text NOT NULL,
	`platform` text NOT NULL,
	`chat_id` text NOT NULL,
	`thread_id` text DEFAULT '' NOT NULL,
	`user_id` text,
	`created_at` integer NOT NULL,
	`last_event_id` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`task_id`, `platform`, `chat_id`, `thread_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_notify_task` ON `kanban_notify_subs` (`task_id`);--> statement-breakpoint
CREATE TABLE `task_comments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` text NOT NULL,
	`author` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_comments_task` ON `task_comments` (`task_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `task_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` text NOT NULL,
	`run_id` integer,
	`kind` text NOT NULL,
	`payload` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_events_task` ON `task_events` (`task_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `idx_events_run` ON `task_events` (`run_id`,`id`);--> statement-breakpoint
CREATE TABLE `task_links` (
	`parent_id` text NOT NULL,
	`child_id` text NOT NULL,
	PRIMARY KEY(`parent_id`, `child_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_links_child` ON `task_links` (`child_id`);--> statement-breakpoint
CREATE INDEX `idx_links_parent` ON `task_links` (`parent_id`);--> statement-breakpoint
CREATE TABLE `task_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` text NOT NULL,
	`profile` text,
	`step_key` text,
	`status` text NOT NULL,
	`claim_lock` text,
	`claim_expires` integer,
	`worker_pid` integer,
	`max_runtime_seconds` integer,
	`last_heartbeat_at` integer,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`outcome` text,
	`summary` text,
	`metadata` text,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `idx_runs_task` ON `task_runs` (`task_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `idx_runs_status` ON `task_runs` (`status`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`title` text NOT NULL,
	`body` text,
	`assignee` text,
	`status` text NOT NULL,
	`priority` integer DEFAULT 0,
	`created_by` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`completed_at` integer,
	`workspace_kind` text DEFAULT 'scratch' NOT NULL,
	`workspace_path` text,
	`claim_lock` text,
	`claim_expires` integer,
	`tenant` text,
	`result` text,
	`idempotency_key` text,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`worker_pid` integer,
	`last_failure_error` text,
	`max_runtime_seconds` integer,
	`last_heartbeat_at` integer,
	`current_run_id` integer,
	`workflow_template_id` text,
	`current_step_key` text,
	`skills` text,
	`max_retries` integer
);
--> statement-breakpoint
CREATE INDEX `idx_tasks_assignee_status` ON `tasks` (`assignee`,`status`);--> statement-breakpoint
CREATE INDEX `idx_tasks_status` ON `tasks` (`status`);--> statement-breakpoint
CREATE INDEX `idx_tasks_tenant` ON `tasks` (`tenant`);--> statement-breakpoint
CREATE INDEX `idx_tasks_idempotency` ON `tasks` (`idempotency_key`);