CREATE TABLE "replicas" (
	"id" uuid PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "spaces" ADD COLUMN "agent_replica_id" uuid;--> statement-breakpoint
ALTER TABLE "installation" ADD COLUMN "replica_secret" text;