CREATE TABLE "group_members" (
	"group_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	CONSTRAINT "group_members_group_id_user_id_pk" PRIMARY KEY("group_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"max_spaces" integer,
	"compute_units" integer,
	"storage_units" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "groups_limits_non_negative" CHECK (coalesce("groups"."max_spaces", 0) >= 0 and coalesce("groups"."compute_units", 0) >= 0 and coalesce("groups"."storage_units", 0) >= 0)
);
--> statement-breakpoint
CREATE TABLE "template_groups" (
	"template_id" uuid NOT NULL,
	"group_id" uuid NOT NULL,
	CONSTRAINT "template_groups_template_id_group_id_pk" PRIMARY KEY("template_id","group_id")
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "max_spaces_override" integer;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "compute_units_override" integer;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "storage_units_override" integer;--> statement-breakpoint
ALTER TABLE "templates" ADD COLUMN "compute_units" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "templates" ADD COLUMN "storage_units" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_groups" ADD CONSTRAINT "template_groups_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_groups" ADD CONSTRAINT "template_groups_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "group_members_user_idx" ON "group_members" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "groups_name_lower_idx" ON "groups" USING btree (lower("name"));--> statement-breakpoint
CREATE INDEX "template_groups_group_idx" ON "template_groups" USING btree ("group_id");--> statement-breakpoint
ALTER TABLE "templates" ADD CONSTRAINT "templates_sizes_non_negative" CHECK ("templates"."compute_units" >= 0 and "templates"."storage_units" >= 0);