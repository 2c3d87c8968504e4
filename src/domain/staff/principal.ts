import type { STAFF_ROLES } from '../vocabulary.js';

export type Role = (typeof STAFF_ROLES)[number];

/** Who is calling: resolved from a token on every request. */
export interface Principal {
  staffId: string;
  tokenId: string;
  role: Role;
  programId: string | null;
  name: string;
}
