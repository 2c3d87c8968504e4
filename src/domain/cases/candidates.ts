import type { Tx } from '../../db/client.js';
import { auditEvent } from '../audit/log.js';
import type { Ctx } from '../context.js';
import { programSettings } from '../programs/settings.js';
import { absentAmong, activeInterveners } from '../staff/store.js';
import { loadCase } from './service.js';
import { weeklyExposure } from '../welfare/service.js';
import { activeCaseCounts } from './store.js';

const IDEOLOGY_WORDS: Record<string, string> = { far_right: 'far-right', islamist: 'Islamist', other: 'other' };

/**
 * Active interveners of the case's program, best first: a specialism in the case's ideology
 * (+3), the profile's language (+2), and spare capacity (up to +2); at capacity sinks to the bottom.
 */
export async function rankCandidates(tx: Tx, ctx: Ctx, caseId: string) {
  const found = await loadCase(tx, ctx, caseId);
  const settings = await programSettings(tx, found.case.programId);
  // Open caseloads counted once per holder and joined by column (a correlated subquery built
  // with ${staff.id} rendered it unqualified, comparing each case with itself).
  const [interveners, load] = await Promise.all([activeInterveners(tx, found.case.programId), activeCaseCounts(tx, found.case.programId)]);
  // The absent are left out for the absence (assigning one needs an override: 409 staff.absent).
  const away = await absentAmong(
    tx,
    interveners.map((r) => r.id),
    ctx.clock.now(),
  );
  const ideology = found.case.ideology;
  // Those who opted out of this ideology are left out (assigning one needs an override: 409 staff.avoids_topic).
  const present = interveners.filter((r) => !away.has(r.id) && !r.avoid.includes(ideology));
  const exposure = await weeklyExposure(
    tx,
    present.map((r) => r.id),
    settings,
    ctx.clock.now(),
  );
  const rows = present.map((r) => ({ ...r, openCases: load.get(r.id) ?? 0, exposure: exposure.get(r.id)! }));
  const language = found.profile.language?.split('-')[0] ?? null;
  const ranked = rows.map((r) => {
    const cap = r.maxCaseload ?? settings.defaultMaxCaseload;
    const reasons: string[] = [];
    let score = 0;
    if (r.specialisms.includes(ideology)) {
      score += 3;
      reasons.push(`specialises in ${IDEOLOGY_WORDS[ideology]} cases`);
    } else {
      reasons.push(`no ${IDEOLOGY_WORDS[ideology]} specialism`);
    }
    if (language && r.languages.some((l) => l.split('-')[0] === language)) {
      score += 2;
      reasons.push(`speaks the profile's language (${language})`);
    } else if (language) {
      reasons.push(`does not list the profile's language (${language})`);
    }
    const spare = Math.max(0, cap - r.openCases);
    if (spare === 0) {
      score -= 10;
      reasons.push(`at capacity (${r.openCases}/${cap} open cases)`);
    } else {
      score += cap > 0 ? (2 * spare) / cap : 0;
      reasons.push(`${spare} of ${cap} caseload places free`);
    }
    // Over this week's exposure cap sinks to the bottom too (assigning needs an override: 409 staff.over_exposure).
    const { exposureMinutes, capMinutes, overCap } = r.exposure;
    if (overCap) {
      score -= 10;
      reasons.push(`over this week's exposure cap (${exposureMinutes} of ${capMinutes} minutes)`);
    }
    return {
      intervenerId: r.id,
      name: r.name,
      score: Math.round(score * 100) / 100,
      openCases: r.openCases,
      maxCaseload: cap,
      exposureMinutes,
      overExposure: overCap,
      reasons,
    };
  });
  ranked.sort((a, b) => b.score - a.score || a.openCases - b.openCases || a.intervenerId.localeCompare(b.intervenerId));
  ctx.audit(auditEvent(ctx, 'case.candidates', 'case', caseId, found.case.programId));
  return ranked;
}
