CREATE TYPE "public"."dsr_resolution" AS ENUM('fulfilled', 'refused', 'no_data');--> statement-breakpoint
CREATE TYPE "public"."dsr_status" AS ENUM('open', 'closed');--> statement-breakpoint
CREATE TYPE "public"."dsr_type" AS ENUM('access', 'objection', 'erasure', 'rectification');--> statement-breakpoint
CREATE TYPE "public"."hold_reason" AS ENUM('safeguarding_investigation', 'complaint', 'litigation', 'dsr_pending');--> statement-breakpoint
CREATE TYPE "public"."outreach_disclosure" AS ENUM('organisation', 'named_person');--> statement-breakpoint
CREATE TYPE "public"."referral_consent" AS ENUM('given', 'declined', 'not_sought');--> statement-breakpoint
CREATE TYPE "public"."referral_status" AS ENUM('pending', 'accepted', 'declined', 'unknown');--> statement-breakpoint
CREATE TYPE "public"."referral_target" AS ENUM('exit_programme', 'mental_health', 'helpline', 'social_services', 'prevent_channel', 'police', 'other');--> statement-breakpoint
ALTER TYPE "public"."notification_kind" ADD VALUE 'dsr_due_soon';--> statement-breakpoint
ALTER TYPE "public"."notification_kind" ADD VALUE 'dsr_overdue';--> statement-breakpoint
ALTER TYPE "public"."staff_role" ADD VALUE 'dpo';--> statement-breakpoint
CREATE TABLE "case_holds" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"reason" "hold_reason" NOT NULL,
	"until" timestamp with time zone,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"released_at" timestamp with time zone,
	"released_by" uuid
);
--> statement-breakpoint
CREATE TABLE "dsr_matches" (
	"dsr_id" uuid NOT NULL,
	"case_id" uuid NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dsr_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"type" "dsr_type" NOT NULL,
	"status" "dsr_status" DEFAULT 'open' NOT NULL,
	"platform" "platform" NOT NULL,
	"subject_hash" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"extended_until" timestamp with time zone,
	"extension_reason" text,
	"suppressed" boolean DEFAULT false NOT NULL,
	"note" text,
	"resolution" "dsr_resolution",
	"resolution_note" text,
	"closed_at" timestamp with time zone,
	"closed_by" uuid,
	"due_soon_notified_at" timestamp with time zone,
	"overdue_notified_at" timestamp with time zone,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outreach_accounts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"platform" "platform" NOT NULL,
	"label" text NOT NULL,
	"disclosure" "outreach_disclosure" NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "referrals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"to" "referral_target" NOT NULL,
	"consent" "referral_consent" NOT NULL,
	"basis" text,
	"note" text,
	"status" "referral_status" DEFAULT 'pending' NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "account_public" boolean;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "content_public" boolean;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "publicness_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "referred_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "first_outreach_account_id" uuid;--> statement-breakpoint
ALTER TABLE "engagement_rollup" ADD COLUMN "referred" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "safeguarding_concerns" ADD COLUMN "dpo_reviewed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "safeguarding_concerns" ADD COLUMN "dpo_reviewed_by" uuid;--> statement-breakpoint
ALTER TABLE "touchpoints" ADD COLUMN "outreach_account_id" uuid;--> statement-breakpoint
ALTER TABLE "case_holds" ADD CONSTRAINT "case_holds_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dsr_matches" ADD CONSTRAINT "dsr_matches_dsr_id_dsr_requests_id_fk" FOREIGN KEY ("dsr_id") REFERENCES "public"."dsr_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dsr_matches" ADD CONSTRAINT "dsr_matches_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dsr_requests" ADD CONSTRAINT "dsr_requests_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outreach_accounts" ADD CONSTRAINT "outreach_accounts_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "case_holds_case_idx" ON "case_holds" USING btree ("case_id") WHERE "case_holds"."released_at" is null;--> statement-breakpoint
CREATE INDEX "case_holds_program_idx" ON "case_holds" USING btree ("program_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "dsr_matches_pk" ON "dsr_matches" USING btree ("dsr_id","case_id");--> statement-breakpoint
CREATE INDEX "dsr_program_status_idx" ON "dsr_requests" USING btree ("program_id","status","due_at");--> statement-breakpoint
CREATE INDEX "outreach_accounts_program_idx" ON "outreach_accounts" USING btree ("program_id","created_at");--> statement-breakpoint
CREATE INDEX "referrals_case_idx" ON "referrals" USING btree ("case_id","created_at");--> statement-breakpoint
-- Reports count `referred` and group by the first outbound message's outreach account: both mark the case for the next rollup pass.
DROP TRIGGER cases_rollup_dirty_update ON cases;--> statement-breakpoint
CREATE TRIGGER cases_rollup_dirty_update AFTER UPDATE ON cases
  FOR EACH ROW WHEN (
    (OLD.status, OLD.ideology, OLD.risk_level, OLD.platform, OLD.flagged_at, OLD.accepted_at, OLD.contacted_at,
     OLD.contacted_by, OLD.responded_at, OLD.responded_by, OLD.sustained_at, OLD.sustained_by, OLD.outcome,
     OLD.assignee_id, OLD.outbound_cost_cents, OLD.first_outbound_approaches,
     OLD.outcome_status, OLD.reviewed_outcome, OLD.erased_at, OLD.referred_at, OLD.first_outreach_account_id)
    IS DISTINCT FROM
    (NEW.status, NEW.ideology, NEW.risk_level, NEW.platform, NEW.flagged_at, NEW.accepted_at, NEW.contacted_at,
     NEW.contacted_by, NEW.responded_at, NEW.responded_by, NEW.sustained_at, NEW.sustained_by, NEW.outcome,
     NEW.assignee_id, NEW.outbound_cost_cents, NEW.first_outbound_approaches,
     NEW.outcome_status, NEW.reviewed_outcome, NEW.erased_at, NEW.referred_at, NEW.first_outreach_account_id)
  ) EXECUTE FUNCTION overture_mark_rollup_dirty();
