import { Resolver } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { DomainError } from '../errors.js';

/** Every address (IPv4 and IPv6) a host name resolves to; tests pass their own (no outside DNS). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

// c-ares, not getaddrinfo: bounded by a timeout and never blocking libuv's thread pool.
const dns = new Resolver({ timeout: 2_000, tries: 2 });

/** Every A and AAAA answer; the connection is then made only to addresses from this list. */
export const resolveWithDns: ResolveHost = async (hostname) => {
  const answers = await Promise.allSettled([dns.resolve4(hostname), dns.resolve6(hostname)]);
  const addresses = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
  if (addresses.length === 0) throw new Error('the host does not resolve');
  return addresses;
};

export interface WebhookPolicy {
  /** OVERTURE_WEBHOOK_ALLOW_PRIVATE: any address and plain http (local receivers, the embedded default). */
  allowPrivate: boolean;
  resolve: ResolveHost;
}

/** ::/96, the deprecated IPv4-compatible form (`::127.0.0.1`), which ipaddr.js calls unicast. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * True only for a public unicast address. IPv4-mapped IPv6 is judged as the IPv4 it carries;
 * anything ipaddr.js names (private, loopback, link-local, CGNAT, unique-local, multicast,
 * unspecified, reserved, NAT64, 6to4, Teredo…) is refused, and so is a string that is not a
 * canonical address (DNS never answers `0x7f.1`).
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.IPv4.isValidFourPartDecimal(address) && !ipaddr.IPv6.isValid(address)) return false;
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv6' && ip.match(IPV4_COMPATIBLE)) return false;
  return ip.range() === 'unicast';
}

/** The reasons a target is refused; none repeats the URL, the host or an address. */
export const REFUSED = {
  invalid: 'must be a valid http(s) URL',
  scheme: 'must use https',
  credentials: 'must not carry credentials (user:password@)',
  localhost: 'must not name localhost',
  literal: 'must not be a loopback, private, link-local or otherwise non-public address',
  resolved: 'must resolve to public addresses only',
} as const;

/** The host as the WHATWG parser canonicalised it (`0x7f.1` → `127.0.0.1`), without brackets or a trailing dot. */
function hostOf(url: URL): string {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

export function isAddressLiteral(host: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(host) || ipaddr.IPv6.isValid(host);
}

/**
 * What can be judged without DNS: scheme, credentials, `localhost` and address literals (which
 * a connection uses as they are, with no lookup). Null when the host name still has to be resolved.
 */
export function staticRefusal(url: URL, allowPrivate: boolean): string | null {
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return allowPrivate ? REFUSED.invalid : REFUSED.scheme;
  if (url.username || url.password) return REFUSED.credentials;
  if (allowPrivate) return null;
  const host = hostOf(url).toLowerCase();
  // RFC 6761: resolvers may answer anything for these names, and it is this machine.
  if (host === 'localhost' || host.endsWith('.localhost')) return REFUSED.localhost;
  if (isAddressLiteral(host) && !isPublicAddress(host)) return REFUSED.literal;
  return null;
}

/** Why `raw` may not be a staff webhook, or null. A name that does not resolve is refused too. */
export async function webhookTargetRefusal(raw: string, policy: WebhookPolicy): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return REFUSED.invalid;
  }
  const refusal = staticRefusal(url, policy.allowPrivate);
  if (refusal || policy.allowPrivate) return refusal;
  const host = hostOf(url);
  if (isAddressLiteral(host)) return null;
  const addresses = await policy.resolve(host).catch(() => [] as string[]);
  // One message for "does not resolve" and "resolves privately": no oracle on internal names.
  return addresses.length > 0 && addresses.every(isPublicAddress) ? null : REFUSED.resolved;
}

/** 400 `program.webhook_url_not_allowed` unless `url` (when set) is a target deliveries may reach. */
export async function assertWebhookTarget(url: string | null | undefined, policy: WebhookPolicy): Promise<void> {
  if (!url) return;
  const refusal = await webhookTargetRefusal(url, policy);
  if (refusal) {
    throw new DomainError(400, 'program.webhook_url_not_allowed', `staffWebhookUrl ${refusal}.`, {
      errors: [{ path: 'body.settings.staffWebhookUrl', message: refusal }],
    });
  }
}
