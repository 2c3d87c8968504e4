import type { Role } from '../staff/principal.js';
import type { ReferralConsent, ReferralTarget } from '../vocabulary.js';

/** Referrals that may be made without the person's consent only by a lead, and only on a safeguarding concern. */
export const CONSENT_OVERRIDE_TARGETS: readonly ReferralTarget[] = ['police', 'prevent_channel'];

export type ReferralRefusal = 'basis_required' | 'consent_required';

/**
 * Why a referral may not be made, or null. Consent other than `given` needs a recorded basis;
 * `police` or `prevent_channel` without consent needs a lead deciding on a case with a
 * safeguarding concern (`hasConcern` is asked only then).
 */
export async function referralRefusal(
  input: { to: ReferralTarget; consent: ReferralConsent; basis: string | null },
  role: Role,
  hasConcern: () => Promise<boolean>,
): Promise<ReferralRefusal | null> {
  if (input.consent === 'given') return null;
  if (!input.basis) return 'basis_required';
  if (!CONSENT_OVERRIDE_TARGETS.includes(input.to)) return null;
  if (role !== 'lead') return 'consent_required';
  return (await hasConcern()) ? null : 'consent_required';
}
