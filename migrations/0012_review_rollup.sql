ALTER TABLE "engagement_rollup" ADD COLUMN "reviewed_positive" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "engagement_rollup" ADD COLUMN "pending_review" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Reports count reviewed outcomes and the review backlog: a review, an adjudication or an erasure marks the case for the next rollup pass.
DROP TRIGGER cases_rollup_dirty_update ON cases;--> statement-breakpoint
CREATE TRIGGER cases_rollup_dirty_update AFTER UPDATE ON cases
  FOR EACH ROW WHEN (
    (OLD.status, OLD.ideology, OLD.risk_level, OLD.platform, OLD.flagged_at, OLD.accepted_at, OLD.contacted_at,
     OLD.contacted_by, OLD.responded_at, OLD.responded_by, OLD.sustained_at, OLD.sustained_by, OLD.outcome,
     OLD.assignee_id, OLD.outbound_cost_cents, OLD.first_outbound_approaches,
     OLD.outcome_status, OLD.reviewed_outcome, OLD.erased_at)
    IS DISTINCT FROM
    (NEW.status, NEW.ideology, NEW.risk_level, NEW.platform, NEW.flagged_at, NEW.accepted_at, NEW.contacted_at,
     NEW.contacted_by, NEW.responded_at, NEW.responded_by, NEW.sustained_at, NEW.sustained_by, NEW.outcome,
     NEW.assignee_id, NEW.outbound_cost_cents, NEW.first_outbound_approaches,
     NEW.outcome_status, NEW.reviewed_outcome, NEW.erased_at)
  ) EXECUTE FUNCTION overture_mark_rollup_dirty();
