CREATE TABLE "redeemed_port_tickets" (
	"id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "redeemed_port_tickets_expires_idx" ON "redeemed_port_tickets" USING btree ("expires_at");