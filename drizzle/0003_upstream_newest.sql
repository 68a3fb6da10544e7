CREATE TABLE `recipe_instance_tasks` (
	`instance_id` text NOT NULL,
	`node_key` text NOT NULL,
	`task_id` text NOT NULL,
	PRIMARY KEY(`instance_id`, `node_key`),
	FOREIGN KEY (`instance_id`) REFERENCES `recipe_instances`(`id`) ON UPDATE no action ON DELETE restrict,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE UNIQUE INDEX `recipe_instance_tasks_task_id_unique` ON `recipe_instance_tasks` (`task_id`);--> statement-breakpoint
CREATE TABLE `recipe_instances` (
	`id` text PRIMARY KEY NOT NULL,
	`idempotency_key` text NOT NULL,
	`recipe_id` text NOT NULL,
	`schema_version` integer NOT NULL,
	`definition_digest` text NOT NULL,
	`request_digest` text NOT NULL,
	`definition_json` text NOT NULL,
	`inputs_json` text NOT NULL,
	`bindings_json` text NOT NULL,
	`effective_plan_json` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`imported` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `recipe_instances_idempotency_key_unique` ON `recipe_instances` (`idempotency_key`);--> statement-breakpoint
ALTER TABLE `kanban_notify_subs` ADD `user_id_alt` text;--> statement-breakpoint
ALTER TABLE `kanban_notify_subs` ADD `chat_type` text;--> statement-breakpoint
ALTER TABLE `kanban_notify_subs` ADD `delivery_mode` text DEFAULT 'notify' NOT NULL;--> statement-breakpoint
ALTER TABLE `kanban_notify_subs` ADD `delivery_metadata` text;--> statement-breakpoint
ALTER TABLE `kanban_notify_subs` ADD `last_ping_event_id` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tasks` ADD `provider_override` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `reasoning_effort` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `completion_contract` text;