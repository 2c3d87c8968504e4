import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Db } from '../../db/client.js';
import type { Clock } from '../clock.js';
import { webhookSettings } from '../programs/settings.js';
import { isPublicAddress, REFUSED, type ResolveHost, resolveWithDns, staticRefusal } from '../programs/webhook-target.js';
import { countWebhookAttempt, findNotification, markWebhookDelivered } from './store.js';

export type Fetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number }>;

/** `X-Overture-Signature`: keyed with the secret string exactly as it was shown. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Standard Webhooks `webhook-signature`, keyed with the secret's decoded bytes. Secrets issued
 * before were `whsec_` + base64url(24 bytes): Node's base64 decoder reads that alphabet too, so
 * their key is those 24 bytes (a strict verifier takes them with `-`→`+` and `_`→`/`).
 */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** A target the policy refuses; its message names neither the URL nor an address. */
export class WebhookTargetRefused extends Error {
  override name = 'WebhookTargetRefused';
  constructor(reason: string) {
    super(`webhook target refused: it ${reason}`);
  }
}

/**
 * Resolves at connect time and hands the socket only addresses that are all public, so a DNS
 * answer that changed since the URL was checked (rebinding) cannot reach an internal address.
 */
export function publicOnlyLookup(resolve: ResolveHost): LookupFunction {
  return (hostname, options, callback) => {
    const refuse = () => callback(new WebhookTargetRefused(REFUSED.resolved), '', 4);
    resolve(hostname).then((addresses) => {
      if (addresses.length === 0 || !addresses.every(isPublicAddress)) return refuse();
      const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
      const found = addresses
        .map((address) => ({ address, family: ipaddr.parse(address).kind() === 'ipv6' ? 6 : 4 }))
        .filter((a) => family === 0 || a.family === family);
      if (found.length === 0) return refuse();
      if (options.all) return callback(null, found);
      return callback(null, found[0]!.address, found[0]!.family);
    }, refuse);
  };
}

/**
 * node:http(s), one connection per delivery, redirects never followed (a 3xx is a failure, so the
 * signed body is never re-sent elsewhere); with `resolve`, every address is checked at connect.
 */
export function webhookTransport(resolve: ResolveHost | null): Fetch {
  return (url, init) =>
    new Promise((done, fail) => {
      const target = new URL(url);
      const client = target.protocol === 'https:' ? https : http;
      const req = client.request(
        target,
        {
          method: init.method,
          headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
          signal: init.signal,
          agent: false,
          ...(resolve ? { lookup: publicOnlyLookup(resolve) } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          // Only the status matters: the receiver's body is never read.
          res.destroy();
          done({ ok: status >= 200 && status < 300, status });
        },
      );
      req.on('error', fail);
      req.end(init.body);
    });
}

/** A failure message safe for logs and the queue's failure record: no URL, host or address. */
function deliveryFailure(err: unknown): Error {
  if (err instanceof WebhookTargetRefused) return err;
  const code = (err as { code?: unknown }).code;
  return new Error(`webhook delivery failed (${typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : 'network error'})`);
}

export interface WebhookDelivery {
  /** OVERTURE_WEBHOOK_ALLOW_PRIVATE: loopback/private targets and plain http. */
  allowPrivate?: boolean;
  /** Connect-time name resolution (default: DNS). */
  resolveHost?: ResolveHost;
  /** A transport of the test's own instead of node:http(s); it gets the URL checks but does its own resolving. */
  fetch?: Fetch;
}

/**
 * The only outbound HTTP Overture makes: a notification POSTed to the program's own staff
 * webhook, signed, carrying ids and the kind only (never a handle, a note or a summary).
 * Throws on failure (a refused target included) so the queue retries with exponential backoff.
 */
export async function deliverWebhook(db: Db, clock: Clock, notificationId: string, opts: WebhookDelivery = {}) {
  const n = await findNotification(db, notificationId);
  if (!n?.programId || n.webhookDeliveredAt) return { outcome: 'done' as const };
  const target = await webhookSettings(db, n.programId);
  if (!target) return { outcome: 'done' as const };
  const url = target.settings.staffWebhookUrl;
  const secret = target.secret;
  if (!url || !secret) return { outcome: 'no-webhook' as const };
  const body = JSON.stringify({
    id: n.id,
    kind: n.kind,
    staffId: n.staffId,
    programId: n.programId,
    caseId: n.caseId,
    createdAt: n.createdAt.toISOString(),
  });
  await countWebhookAttempt(db, notificationId);
  const allowPrivate = opts.allowPrivate ?? false;
  // Checked again at every attempt: the URL may predate these rules, or the setting changed.
  const refusal = URL.canParse(url) ? staticRefusal(new URL(url), allowPrivate) : REFUSED.invalid;
  if (refusal) throw new WebhookTargetRefused(refusal);
  const send = opts.fetch ?? webhookTransport(allowPrivate ? null : (opts.resolveHost ?? resolveWithDns));
  const timestamp = Math.floor(clock.now().getTime() / 1000);
  const res = await send(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Overture-Webhook/1',
      'x-overture-delivery': n.id,
      'x-overture-signature': signature(secret, body),
      'webhook-id': n.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': standardSignature(secret, n.id, timestamp, body),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  }).catch((err: unknown) => {
    throw deliveryFailure(err);
  });
  if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  await markWebhookDelivered(db, notificationId, clock.now());
  return { outcome: 'delivered' as const };
}
