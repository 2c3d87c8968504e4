-- Appends one entry to the audit hash chain in a single round trip: take the chain lock (held to
-- the end of the caller's transaction), read the head, insert with hash = sha256(prev ‖ canonical).
-- The canonical JSON is built by the application (src/domain/audit/log.ts canonicalEntry).
CREATE OR REPLACE FUNCTION overture_audit_append(
  p_id uuid, p_at timestamptz, p_actor_id uuid, p_action text, p_target_type text, p_target_id uuid,
  p_program_id uuid, p_case_id uuid, p_request_id text, p_canonical text
) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  prev text;
  h text;
BEGIN
  PERFORM pg_advisory_xact_lock(7242003);
  SELECT hash INTO prev FROM audit_log ORDER BY seq DESC LIMIT 1;
  prev := coalesce(prev, repeat('0', 64));
  h := encode(sha256(convert_to(prev || p_canonical, 'UTF8')), 'hex');
  INSERT INTO audit_log (id, at, actor_id, action, target_type, target_id, program_id, case_id, request_id, prev_hash, hash)
  VALUES (p_id, p_at, p_actor_id, p_action, p_target_type, p_target_id, p_program_id, p_case_id, p_request_id, prev, h);
  RETURN h;
END;
$$;
