CREATE TABLE "engagement_events" (
	"program_id" uuid NOT NULL,
	"day" date NOT NULL,
	"contacted" integer DEFAULT 0 NOT NULL,
	"responded" integer DEFAULT 0 NOT NULL,
	"sustained" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "engagement_events_program_id_day_pk" PRIMARY KEY("program_id","day")
);
--> statement-breakpoint
CREATE TABLE "engagement_response" (
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"dimension" text NOT NULL,
	"group_key" text NOT NULL,
	"day" date NOT NULL,
	"seconds" integer NOT NULL,
	CONSTRAINT "engagement_response_case_id_dimension_group_key_pk" PRIMARY KEY("case_id","dimension","group_key")
);
--> statement-breakpoint
CREATE TABLE "engagement_rollup" (
	"program_id" uuid NOT NULL,
	"dimension" text NOT NULL,
	"group_key" text NOT NULL,
	"day" date NOT NULL,
	"flagged" integer DEFAULT 0 NOT NULL,
	"accepted" integer DEFAULT 0 NOT NULL,
	"contacted" integer DEFAULT 0 NOT NULL,
	"responded" integer DEFAULT 0 NOT NULL,
	"sustained" integer DEFAULT 0 NOT NULL,
	"positive" integer DEFAULT 0 NOT NULL,
	"cost_cents" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "engagement_rollup_program_id_dimension_day_group_key_pk" PRIMARY KEY("program_id","dimension","day","group_key")
);
--> statement-breakpoint
CREATE TABLE "rollup_contrib" (
	"case_id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"contrib" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollup_dirty" (
	"case_id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"marked_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "engagement_response_window_idx" ON "engagement_response" USING btree ("program_id","dimension","day");--> statement-breakpoint
CREATE INDEX "rollup_dirty_program_idx" ON "rollup_dirty" USING btree ("program_id","marked_at");