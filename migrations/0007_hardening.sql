CREATE TABLE "board_sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"staff_id" uuid NOT NULL,
	"token_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
-- The rollup trigger names the column in its WHEN clause: PostgreSQL will not retype it underneath.
DROP TRIGGER cases_rollup_dirty_update ON cases;--> statement-breakpoint
ALTER TABLE "cases" ALTER COLUMN "outbound_cost_cents" SET DATA TYPE bigint;--> statement-breakpoint
CREATE TRIGGER cases_rollup_dirty_update AFTER UPDATE ON cases
  FOR EACH ROW WHEN (
    (OLD.status, OLD.ideology, OLD.risk_level, OLD.platform, OLD.flagged_at, OLD.accepted_at, OLD.contacted_at,
     OLD.contacted_by, OLD.responded_at, OLD.responded_by, OLD.sustained_at, OLD.sustained_by, OLD.outcome,
     OLD.assignee_id, OLD.outbound_cost_cents, OLD.first_outbound_approaches)
    IS DISTINCT FROM
    (NEW.status, NEW.ideology, NEW.risk_level, NEW.platform, NEW.flagged_at, NEW.accepted_at, NEW.contacted_at,
     NEW.contacted_by, NEW.responded_at, NEW.responded_by, NEW.sustained_at, NEW.sustained_by, NEW.outcome,
     NEW.assignee_id, NEW.outbound_cost_cents, NEW.first_outbound_approaches)
  ) EXECUTE FUNCTION overture_mark_rollup_dirty();--> statement-breakpoint
ALTER TABLE "board_sessions" ADD CONSTRAINT "board_sessions_staff_id_staff_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "board_sessions" ADD CONSTRAINT "board_sessions_token_id_api_tokens_id_fk" FOREIGN KEY ("token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "board_sessions_expires_idx" ON "board_sessions" USING btree ("expires_at");