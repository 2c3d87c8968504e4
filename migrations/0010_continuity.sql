CREATE TYPE "public"."note_kind" AS ENUM('general', 'handover', 'supervision');--> statement-breakpoint
CREATE TYPE "public"."note_visibility" AS ENUM('case', 'leads');--> statement-breakpoint
ALTER TYPE "public"."notification_kind" ADD VALUE 'caseload_orphaned';--> statement-breakpoint
CREATE TABLE "case_notes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"kind" "note_kind" NOT NULL,
	"body" text,
	"visibility" "note_visibility" NOT NULL,
	"author_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "absences" (
	"id" uuid PRIMARY KEY NOT NULL,
	"staff_id" uuid NOT NULL,
	"program_id" uuid NOT NULL,
	"from" timestamp with time zone NOT NULL,
	"to" timestamp with time zone NOT NULL,
	"cover_id" uuid,
	"reason" text,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "has_handover_note" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "touchpoints" ADD COLUMN "voided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "touchpoints" ADD COLUMN "voided_by" uuid;--> statement-breakpoint
ALTER TABLE "touchpoints" ADD COLUMN "void_reason" text;--> statement-breakpoint
ALTER TABLE "case_notes" ADD CONSTRAINT "case_notes_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "absences" ADD CONSTRAINT "absences_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "absences" ADD CONSTRAINT "absences_cover_id_staff_id_fk" FOREIGN KEY ("cover_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "case_notes_case_idx" ON "case_notes" USING btree ("case_id","id");--> statement-breakpoint
CREATE INDEX "absences_staff_idx" ON "absences" USING btree ("staff_id","to");--> statement-breakpoint
CREATE INDEX "absences_cover_idx" ON "absences" USING btree ("cover_id","to");