CREATE TYPE "public"."case_status" AS ENUM('flagged', 'accepted', 'rejected', 'approved', 'active', 'closed');--> statement-breakpoint
CREATE TYPE "public"."channel" AS ENUM('direct_message', 'paid_message', 'comment', 'other');--> statement-breakpoint
CREATE TYPE "public"."concern_status" AS ENUM('open', 'acknowledged');--> statement-breakpoint
CREATE TYPE "public"."direction" AS ENUM('outbound', 'inbound');--> statement-breakpoint
CREATE TYPE "public"."follow_up_kind" AS ENUM('follow_up', 'check_in', 'review');--> statement-breakpoint
CREATE TYPE "public"."follow_up_status" AS ENUM('pending', 'due', 'overdue', 'done', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."ideology" AS ENUM('far_right', 'islamist', 'other');--> statement-breakpoint
CREATE TYPE "public"."notification_kind" AS ENUM('follow_up_due', 'follow_up_overdue', 'no_contact', 'response_overdue', 'safeguarding_raised', 'safeguarding_unacknowledged', 'case_assigned');--> statement-breakpoint
CREATE TYPE "public"."outcome" AS ENUM('positive_change', 'disengaged', 'no_response', 'declined', 'referred', 'unsafe_to_continue', 'other');--> statement-breakpoint
CREATE TYPE "public"."platform" AS ENUM('facebook', 'x', 'instagram', 'youtube', 'tiktok', 'telegram', 'reddit', 'other');--> statement-breakpoint
CREATE TYPE "public"."risk_level" AS ENUM('low', 'medium', 'high');--> statement-breakpoint
CREATE TYPE "public"."sentiment" AS ENUM('positive', 'neutral', 'negative', 'hostile');--> statement-breakpoint
CREATE TYPE "public"."severity" AS ENUM('urgent', 'high');--> statement-breakpoint
CREATE TYPE "public"."staff_role" AS ENUM('admin', 'lead', 'analyst', 'intervener');--> statement-breakpoint
CREATE TYPE "public"."stage" AS ENUM('none', 'contacted', 'responded', 'sustained');--> statement-breakpoint
CREATE TABLE "assignments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"staff_id" uuid NOT NULL,
	"assigned_by" uuid,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"override" boolean DEFAULT false NOT NULL,
	"override_reason" text
);
--> statement-breakpoint
CREATE TABLE "case_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"actor_id" uuid,
	"kind" text NOT NULL,
	"from_status" "case_status",
	"to_status" "case_status",
	"reason" text,
	"data" jsonb,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"status" "case_status" DEFAULT 'flagged' NOT NULL,
	"stage" "stage" DEFAULT 'none' NOT NULL,
	"ideology" "ideology" NOT NULL,
	"risk_level" "risk_level" NOT NULL,
	"platform" "platform" NOT NULL,
	"indicators" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"assignee_id" uuid,
	"flagged_at" timestamp with time zone NOT NULL,
	"flagged_by" uuid,
	"accepted_at" timestamp with time zone,
	"approved_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"outcome" "outcome",
	"contacted_at" timestamp with time zone,
	"contacted_by" uuid,
	"responded_at" timestamp with time zone,
	"responded_by" uuid,
	"sustained_at" timestamp with time zone,
	"sustained_by" uuid,
	"first_outbound_approaches" text[],
	"touchpoint_count" integer DEFAULT 0 NOT NULL,
	"inbound_count" integer DEFAULT 0 NOT NULL,
	"outbound_cost_cents" integer DEFAULT 0 NOT NULL,
	"last_touchpoint_at" timestamp with time zone,
	"last_touchpoint_direction" "direction",
	"no_contact_alerted_at" timestamp with time zone,
	"erased_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profiles" (
	"case_id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid NOT NULL,
	"platform" "platform" NOT NULL,
	"handle" text,
	"url" text,
	"display_name" text,
	"language" text,
	"open" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "follow_ups" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"assignee_id" uuid,
	"due_at" timestamp with time zone NOT NULL,
	"kind" "follow_up_kind" NOT NULL,
	"note" text,
	"status" "follow_up_status" DEFAULT 'pending' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"due_notified_at" timestamp with time zone,
	"overdue_notified_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"staff_id" uuid NOT NULL,
	"program_id" uuid,
	"kind" "notification_kind" NOT NULL,
	"case_id" uuid,
	"subject_id" uuid,
	"dedupe_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"read_at" timestamp with time zone,
	"webhook_delivered_at" timestamp with time zone,
	"webhook_attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_id" uuid,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" uuid,
	"program_id" uuid,
	"request_id" text,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_log_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"token_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"response_status" integer,
	"response_body" text,
	"case_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_token_id_key_pk" PRIMARY KEY("token_id","key")
);
--> statement-breakpoint
CREATE TABLE "job_runs" (
	"name" text PRIMARY KEY NOT NULL,
	"last_started_at" timestamp with time zone,
	"last_finished_at" timestamp with time zone,
	"last_status" text,
	"last_result" jsonb,
	"runs" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "suppression_list" (
	"hash" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"webhook_secret" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "safeguarding_concerns" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"severity" "severity" NOT NULL,
	"concern" text,
	"action_taken" text,
	"status" "concern_status" DEFAULT 'open' NOT NULL,
	"raised_by" uuid NOT NULL,
	"raised_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_by" uuid,
	"acknowledged_at" timestamp with time zone,
	"acknowledge_note" text,
	"escalations" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"staff_id" uuid NOT NULL,
	"label" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "staff" (
	"id" uuid PRIMARY KEY NOT NULL,
	"program_id" uuid,
	"name" text NOT NULL,
	"role" "staff_role" NOT NULL,
	"specialisms" text[] DEFAULT '{}'::text[] NOT NULL,
	"languages" text[] DEFAULT '{}'::text[] NOT NULL,
	"max_caseload" integer,
	"active" boolean DEFAULT true NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "touchpoints" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"direction" "direction" NOT NULL,
	"channel" "channel" NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"approaches" text[],
	"sentiment" "sentiment",
	"cost_cents" integer,
	"summary" text,
	"logged_by" uuid NOT NULL,
	"holder_id" uuid,
	"awaiting_response" boolean DEFAULT false NOT NULL,
	"response_overdue_notified_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "case_events" ADD CONSTRAINT "case_events_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_assignee_id_staff_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_flagged_by_staff_id_fk" FOREIGN KEY ("flagged_by") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "profiles" ADD CONSTRAINT "profiles_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "profiles" ADD CONSTRAINT "profiles_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "safeguarding_concerns" ADD CONSTRAINT "safeguarding_concerns_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "staff" ADD CONSTRAINT "staff_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "touchpoints" ADD CONSTRAINT "touchpoints_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assignments_case_idx" ON "assignments" USING btree ("case_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "assignments_one_open_idx" ON "assignments" USING btree ("case_id") WHERE "assignments"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "case_events_case_idx" ON "case_events" USING btree ("case_id","id");--> statement-breakpoint
CREATE INDEX "cases_program_status_idx" ON "cases" USING btree ("program_id","status","id");--> statement-breakpoint
CREATE INDEX "cases_assignee_idx" ON "cases" USING btree ("assignee_id","status");--> statement-breakpoint
CREATE INDEX "cases_program_flagged_idx" ON "cases" USING btree ("program_id","flagged_at");--> statement-breakpoint
CREATE UNIQUE INDEX "profiles_open_handle_idx" ON "profiles" USING btree ("program_id","platform","handle") WHERE "profiles"."open" and "profiles"."handle" is not null;--> statement-breakpoint
CREATE INDEX "follow_ups_case_idx" ON "follow_ups" USING btree ("case_id","status");--> statement-breakpoint
CREATE INDEX "follow_ups_assignee_idx" ON "follow_ups" USING btree ("assignee_id","status","due_at");--> statement-breakpoint
CREATE INDEX "follow_ups_status_due_idx" ON "follow_ups" USING btree ("status","due_at");--> statement-breakpoint
CREATE UNIQUE INDEX "notifications_dedupe_idx" ON "notifications" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "notifications_staff_idx" ON "notifications" USING btree ("staff_id","id");--> statement-breakpoint
CREATE INDEX "safeguarding_program_status_idx" ON "safeguarding_concerns" USING btree ("program_id","status","id");--> statement-breakpoint
CREATE INDEX "safeguarding_case_idx" ON "safeguarding_concerns" USING btree ("case_id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_idx" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "api_tokens_staff_idx" ON "api_tokens" USING btree ("staff_id");--> statement-breakpoint
CREATE INDEX "staff_program_role_idx" ON "staff" USING btree ("program_id","role");--> statement-breakpoint
CREATE INDEX "touchpoints_case_idx" ON "touchpoints" USING btree ("case_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "touchpoints_awaiting_idx" ON "touchpoints" USING btree ("occurred_at") WHERE "touchpoints"."awaiting_response";