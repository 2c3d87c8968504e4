CREATE TYPE "public"."debrief_reason" AS ENUM('distressing_touchpoint', 'hostile_touchpoint', 'safeguarding_concern', 'unsafe_closure');--> statement-breakpoint
CREATE TYPE "public"."debrief_status" AS ENUM('pending', 'done');--> statement-breakpoint
CREATE TYPE "public"."supervision_format" AS ENUM('individual', 'group', 'peer');--> statement-breakpoint
CREATE TYPE "public"."time_activity" AS ENUM('messaging', 'research', 'reading');--> statement-breakpoint
ALTER TYPE "public"."notification_kind" ADD VALUE 'debrief_due';--> statement-breakpoint
ALTER TYPE "public"."notification_kind" ADD VALUE 'debrief_overdue';--> statement-breakpoint
ALTER TYPE "public"."notification_kind" ADD VALUE 'supervision_due';--> statement-breakpoint
CREATE TABLE "debriefs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"staff_id" uuid NOT NULL,
	"case_id" uuid,
	"reason" "debrief_reason" NOT NULL,
	"source_id" uuid NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" "debrief_status" DEFAULT 'pending' NOT NULL,
	"done_at" timestamp with time zone,
	"done_by" uuid,
	"note" text,
	"overdue_notified_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "supervision_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"staff_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"minutes" integer NOT NULL,
	"format" "supervision_format" NOT NULL,
	"recorded_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "time_logs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"staff_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"minutes" integer NOT NULL,
	"activity" time_activity NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "staff" ADD COLUMN "avoid" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "touchpoints" ADD COLUMN "minutes_spent" integer;--> statement-breakpoint
ALTER TABLE "touchpoints" ADD COLUMN "distressing" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "debriefs" ADD CONSTRAINT "debriefs_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "debriefs" ADD CONSTRAINT "debriefs_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supervision_sessions" ADD CONSTRAINT "supervision_sessions_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supervision_sessions" ADD CONSTRAINT "supervision_sessions_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "time_logs" ADD CONSTRAINT "time_logs_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "time_logs" ADD CONSTRAINT "time_logs_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "debriefs_source_idx" ON "debriefs" USING btree ("reason","source_id","staff_id");--> statement-breakpoint
CREATE INDEX "debriefs_program_status_idx" ON "debriefs" USING btree ("program_id","status","due_at");--> statement-breakpoint
CREATE INDEX "debriefs_staff_idx" ON "debriefs" USING btree ("staff_id","status");--> statement-breakpoint
CREATE INDEX "supervision_sessions_staff_at_idx" ON "supervision_sessions" USING btree ("staff_id","at");--> statement-breakpoint
CREATE INDEX "time_logs_staff_at_idx" ON "time_logs" USING btree ("staff_id","at");--> statement-breakpoint
CREATE INDEX "touchpoints_exposure_idx" ON "touchpoints" USING btree ("logged_by","occurred_at") WHERE "touchpoints"."minutes_spent" is not null;