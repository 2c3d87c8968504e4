CREATE TYPE "public"."outcome_status" AS ENUM('self_reported', 'provisional', 'confirmed', 'disputed', 'adjudicated');--> statement-breakpoint
CREATE TYPE "public"."review_confidence" AS ENUM('low', 'medium', 'high');--> statement-breakpoint
CREATE TYPE "public"."review_kind" AS ENUM('review', 'adjudication');--> statement-breakpoint
CREATE TYPE "public"."snapshot_report" AS ENUM('engagement', 'trend', 'agreement', 'trial', 'assessments');--> statement-breakpoint
ALTER TYPE "public"."notification_kind" ADD VALUE 'review_requested';--> statement-breakpoint
ALTER TYPE "public"."staff_role" ADD VALUE 'evaluator';--> statement-breakpoint
CREATE TABLE "program_settings_history" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	"changed_by" uuid,
	"changes" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outcome_reviews" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"reviewer_id" uuid NOT NULL,
	"kind" "review_kind" DEFAULT 'review' NOT NULL,
	"outcome" "outcome" NOT NULL,
	"signals" text[] NOT NULL,
	"confidence" "review_confidence",
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "report_snapshots" (
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "report_snapshots_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"report" "snapshot_report" NOT NULL,
	"params" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid NOT NULL,
	"settings_version" integer NOT NULL,
	"body" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "outcome_status" "outcome_status";--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "reviewed_outcome" "outcome";--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "reviewed_signals" text[];--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "reviews_required" integer;--> statement-breakpoint
ALTER TABLE "programs" ADD COLUMN "settings_version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "program_settings_history" ADD CONSTRAINT "program_settings_history_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outcome_reviews" ADD CONSTRAINT "outcome_reviews_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "program_settings_history_idx" ON "program_settings_history" USING btree ("program_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "outcome_reviews_once_idx" ON "outcome_reviews" USING btree ("case_id","reviewer_id","kind");--> statement-breakpoint
CREATE INDEX "outcome_reviews_program_idx" ON "outcome_reviews" USING btree ("program_id","created_at");--> statement-breakpoint
CREATE INDEX "report_snapshots_program_idx" ON "report_snapshots" USING btree ("program_id","seq");