/**
 * The first five minutes with Overture, then an intervener's day, through the typed client:
 *
 *   OVERTURE_URL=http://127.0.0.1:3000 OVERTURE_ADMIN_TOKEN=ovt_… npm run example
 *
 * An admin creates a program, a lead and an intervener, and a token for each; the lead flags a
 * profile, triages, approves and assigns the case; the intervener logs a touchpoint (with an
 * Idempotency-Key, so a retry cannot log it twice), schedules a follow-up and reads the caseload.
 * Every name and handle is fresh, so it can run again against the same server.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createOvertureClient, ok } from '../src/index.js';

const baseUrl = process.env['OVERTURE_URL'] ?? 'http://127.0.0.1:3000';
const adminToken = process.env['OVERTURE_ADMIN_TOKEN'];
if (!adminToken) {
  console.error('Set OVERTURE_ADMIN_TOKEN to an admin token (npx overture token create --admin prints one).');
  process.exit(2);
}

const run = randomBytes(3).toString('hex');
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const daysAhead = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

// The first five minutes: an admin sets up a program and its people.
const admin = createOvertureClient(baseUrl, adminToken);
const me = ok(await admin.GET('/v1/me'), 'who am I');
console.log(`signed in as ${me.name} (${me.role})`);

const program = ok(await admin.POST('/v1/programs', { body: { name: `Example program ${run}` } }), 'create program');
console.log(`program    ${program.id}  ${program.name}`);

const lead = ok(await admin.POST('/v1/staff', { body: { programId: program.id, name: `Lee Lead ${run}`, role: 'lead' } }), 'create lead');
const intervener = ok(
  await admin.POST('/v1/staff', {
    body: { programId: program.id, name: `Sam Intervener ${run}`, role: 'intervener', specialisms: ['far_right'], languages: ['en'], maxCaseload: 10 },
  }),
  'create intervener',
);
const tokenFor = async (staffId: string) =>
  ok(await admin.POST('/v1/staff/{id}/tokens', { params: { path: { id: staffId } }, body: { label: 'example' } }), 'create token').token;
const asLead = createOvertureClient(baseUrl, await tokenFor(lead.id));
const asIntervener = createOvertureClient(baseUrl, await tokenFor(intervener.id));
console.log(`lead       ${lead.id}`);
console.log(`intervener ${intervener.id}`);

// The lead flags a public profile, triages, approves and assigns it.
const flagged = ok(
  await asLead.POST('/v1/cases', {
    body: {
      programId: program.id,
      profile: { platform: 'x', handle: `@example_${run}`, language: 'en' },
      ideology: 'far_right',
      riskLevel: 'medium',
      indicators: [{ kind: 'shares_propaganda', note: 'Reposts a recruitment video' }],
      flaggedAt: minutesAgo(120),
    },
  }),
  'flag a profile',
);
const path = { id: flagged.id };
ok(await asLead.POST('/v1/cases/{id}/triage', { params: { path }, body: { decision: 'accept', reason: 'Public account, meets the criteria' } }), 'triage');
ok(await asLead.POST('/v1/cases/{id}/approve', { params: { path }, body: {} }), 'approve');
ok(await asLead.POST('/v1/cases/{id}/assignment', { params: { path }, body: { intervenerId: intervener.id } }), 'assign');

// PATCH needs the ETag just read, as If-Match.
const read = await asLead.GET('/v1/cases/{id}', { params: { path } });
const etag = read.response.headers.get('etag') ?? '';
ok(await asLead.PATCH('/v1/cases/{id}', { params: { path, header: { 'If-Match': etag } }, body: { riskLevel: 'high' } }), 'raise the risk level');
console.log(`case       ${flagged.id}  assigned, risk raised (If-Match ${etag})`);

// The intervener's day: log the message they sent. The same Idempotency-Key on a retry
// (a dropped connection, a double click) answers the first touchpoint instead of logging another.
const touchpoint = {
  params: { path, header: { 'Idempotency-Key': randomUUID() } },
  body: {
    direction: 'outbound' as const,
    channel: 'direct_message' as const,
    occurredAt: minutesAgo(30),
    approaches: ['empathetic' as const, 'questioning' as const],
    summary: 'Asked what drew them to the video they shared',
  },
};
const logged = ok(await asIntervener.POST('/v1/cases/{id}/touchpoints', touchpoint), 'log a touchpoint');
const retried = await asIntervener.POST('/v1/cases/{id}/touchpoints', touchpoint);
if (ok(retried, 'retry the touchpoint').id !== logged.id || retried.response.headers.get('idempotent-replayed') !== 'true') {
  throw new Error('a retry with the same Idempotency-Key logged a second touchpoint');
}
console.log(`touchpoint ${logged.id}  (a retry with the same key answered the same one)`);

const followUp = ok(
  await asIntervener.POST('/v1/cases/{id}/follow-ups', {
    params: { path },
    body: { dueAt: daysAhead(2), kind: 'check_in', note: 'See whether they replied' },
  }),
  'schedule a follow-up',
);
console.log(`follow-up  ${followUp.id}  due ${followUp.dueAt}`);

const caseload = ok(await asIntervener.GET('/v1/me/caseload'), 'read the caseload');
console.log(`caseload   ${caseload.items.length} active case(s)`);
for (const item of caseload.items) {
  console.log(`  ${item.platform} @${item.handle}  stage ${item.stage}, risk ${item.riskLevel}, next follow-up ${item.nextFollowUpAt ?? 'none'}`);
}
if (!caseload.items.some((item) => item.id === flagged.id && item.stage === 'contacted')) {
  throw new Error('the case is not in the caseload as contacted');
}
