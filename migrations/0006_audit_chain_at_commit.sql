CREATE TABLE "audit_pending" (
	"id" uuid PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_id" uuid,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" uuid,
	"program_id" uuid,
	"case_id" uuid,
	"request_id" text,
	"canonical" text NOT NULL
);
--> statement-breakpoint
-- Chains a pending entry into audit_log when its transaction commits (a deferred constraint
-- trigger fires at commit, in insertion order): take the chain lock, read the head, insert with
-- hash = sha256(prev ‖ canonical), drop the pending row. The lock is held from here to the end of
-- the commit (microseconds and one WAL flush), not while the application works, so concurrent
-- writes no longer queue behind each other's round trips.
CREATE OR REPLACE FUNCTION overture_audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  prev text;
BEGIN
  PERFORM pg_advisory_xact_lock(7242003);
  SELECT hash INTO prev FROM audit_log ORDER BY seq DESC LIMIT 1;
  prev := coalesce(prev, repeat('0', 64));
  INSERT INTO audit_log (id, at, actor_id, action, target_type, target_id, program_id, case_id, request_id, prev_hash, hash)
  VALUES (NEW.id, NEW.at, NEW.actor_id, NEW.action, NEW.target_type, NEW.target_id, NEW.program_id, NEW.case_id, NEW.request_id,
    prev, encode(sha256(convert_to(prev || NEW.canonical, 'UTF8')), 'hex'));
  DELETE FROM audit_pending WHERE id = NEW.id;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER audit_pending_chain AFTER INSERT ON audit_pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION overture_audit_chain();
-- overture_audit_append (0005) stays for one release: processes of the previous version still
-- call it during a rolling upgrade, and it chains under the same lock, so both can run at once.
