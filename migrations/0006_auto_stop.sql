ALTER TABLE "templates" ADD COLUMN "schedule" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "templates" ADD COLUMN "max_uptime_seconds" integer;--> statement-breakpoint
ALTER TABLE "templates" ADD COLUMN "idle_timeout_seconds" integer;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "uptime_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "last_activity_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "auto_stop_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "auto_stop_reason" text;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "auto_stop_warned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "scheduler_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "stopped_reason" text;--> statement-breakpoint
CREATE INDEX "spaces_scheduler_due_idx" ON "spaces" USING btree ("scheduler_due_at") WHERE "spaces"."scheduler_due_at" is not null;