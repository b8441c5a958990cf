ALTER TABLE "templates" ADD COLUMN "auto_restart" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "health" text DEFAULT 'UNKNOWN' NOT NULL;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "health_reason" text;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "health_restarts" integer DEFAULT 0 NOT NULL;