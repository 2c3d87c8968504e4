-- Any change to what reports count marks the case for the next incremental rollup pass.
CREATE OR REPLACE FUNCTION overture_mark_rollup_dirty() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO rollup_dirty (case_id, program_id, marked_at) VALUES (NEW.id, NEW.program_id, now())
  ON CONFLICT (case_id) DO NOTHING;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER cases_rollup_dirty_insert AFTER INSERT ON cases
  FOR EACH ROW EXECUTE FUNCTION overture_mark_rollup_dirty();
--> statement-breakpoint
CREATE TRIGGER cases_rollup_dirty_update AFTER UPDATE ON cases
  FOR EACH ROW WHEN (
    (OLD.status, OLD.ideology, OLD.risk_level, OLD.platform, OLD.flagged_at, OLD.accepted_at, OLD.contacted_at,
     OLD.contacted_by, OLD.responded_at, OLD.responded_by, OLD.sustained_at, OLD.sustained_by, OLD.outcome,
     OLD.assignee_id, OLD.outbound_cost_cents, OLD.first_outbound_approaches)
    IS DISTINCT FROM
    (NEW.status, NEW.ideology, NEW.risk_level, NEW.platform, NEW.flagged_at, NEW.accepted_at, NEW.contacted_at,
     NEW.contacted_by, NEW.responded_at, NEW.responded_by, NEW.sustained_at, NEW.sustained_by, NEW.outcome,
     NEW.assignee_id, NEW.outbound_cost_cents, NEW.first_outbound_approaches)
  ) EXECUTE FUNCTION overture_mark_rollup_dirty();
