CREATE TYPE "public"."assessment_phase" AS ENUM('baseline', 'review', 'closure');--> statement-breakpoint
CREATE TYPE "public"."trial_status" AS ENUM('running', 'stopped');--> statement-breakpoint
CREATE TABLE "assessment_templates" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"factors" jsonb NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "assessments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"template_id" uuid NOT NULL,
	"phase" "assessment_phase" NOT NULL,
	"scores" jsonb NOT NULL,
	"note" text,
	"assessed_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trial_strata" (
	"trial_id" uuid NOT NULL,
	"stratum" text NOT NULL,
	"allocated" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "trial_strata_trial_id_stratum_pk" PRIMARY KEY("trial_id","stratum")
);
--> statement-breakpoint
CREATE TABLE "trials" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"name" text NOT NULL,
	"arms" text[] NOT NULL,
	"stratify_by" text[] NOT NULL,
	"status" "trial_status" DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"started_by" uuid NOT NULL,
	"stopped_at" timestamp with time zone,
	"stopped_by" uuid
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "trial_id" uuid;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "trial_arm" text;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "trial_allocated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "assessment_templates" ADD CONSTRAINT "assessment_templates_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_template_id_assessment_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."assessment_templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trial_strata" ADD CONSTRAINT "trial_strata_trial_id_trials_id_fk" FOREIGN KEY ("trial_id") REFERENCES "public"."trials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trials" ADD CONSTRAINT "trials_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "assessment_templates_version_idx" ON "assessment_templates" USING btree ("program_id","name","version");--> statement-breakpoint
CREATE INDEX "assessments_case_idx" ON "assessments" USING btree ("case_id","id");--> statement-breakpoint
CREATE INDEX "assessments_template_idx" ON "assessments" USING btree ("program_id","template_id","phase");--> statement-breakpoint
CREATE UNIQUE INDEX "trials_one_running_idx" ON "trials" USING btree ("program_id") WHERE "trials"."status" = 'running';--> statement-breakpoint
CREATE INDEX "trials_program_idx" ON "trials" USING btree ("program_id","started_at");--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_trial_id_trials_id_fk" FOREIGN KEY ("trial_id") REFERENCES "public"."trials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cases_trial_idx" ON "cases" USING btree ("trial_id") WHERE "cases"."trial_id" is not null;--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_trial_allocation_whole" CHECK (("trial_id" IS NULL) = ("trial_arm" IS NULL) AND ("trial_id" IS NULL) = ("trial_allocated_at" IS NULL));--> statement-breakpoint
-- The rollups gain the strata (ideology x riskLevel, alone and per approach) of the adjusted approach comparison: every case's contribution is recomputed by the next rollup passes.
INSERT INTO "rollup_dirty" ("case_id", "program_id") SELECT "id", "program_id" FROM "cases" ON CONFLICT DO NOTHING;
