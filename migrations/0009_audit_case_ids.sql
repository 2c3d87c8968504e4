ALTER TABLE "audit_log" ADD COLUMN "case_ids" uuid[];--> statement-breakpoint
ALTER TABLE "audit_pending" ADD COLUMN "case_ids" uuid[];--> statement-breakpoint
CREATE INDEX "audit_log_case_ids_idx" ON "audit_log" USING gin ("case_ids");--> statement-breakpoint
-- As in 0006, now also carrying case_ids (a list read records every case it showed in one entry).
CREATE OR REPLACE FUNCTION overture_audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  prev text;
BEGIN
  PERFORM pg_advisory_xact_lock(7242003);
  SELECT hash INTO prev FROM audit_log ORDER BY seq DESC LIMIT 1;
  prev := coalesce(prev, repeat('0', 64));
  INSERT INTO audit_log (id, at, actor_id, action, target_type, target_id, program_id, case_id, case_ids, request_id, prev_hash, hash)
  VALUES (NEW.id, NEW.at, NEW.actor_id, NEW.action, NEW.target_type, NEW.target_id, NEW.program_id, NEW.case_id, NEW.case_ids, NEW.request_id,
    prev, encode(sha256(convert_to(prev || NEW.canonical, 'UTF8')), 'hex'));
  DELETE FROM audit_pending WHERE id = NEW.id;
  RETURN NULL;
END;
$$;
