ALTER TABLE "spaces" ADD COLUMN "services" jsonb;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "agent_session" text;--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "agent_lease_until" timestamp with time zone;