import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

/** A typed client: every path, parameter, body and response as the server's OpenAPI document declares it. */
export type OvertureClient = Client<paths>;

/**
 * A client for the Overture API at `baseUrl` (e.g. `http://127.0.0.1:3000`), sending `token`
 * (`ovt_…`) as a bearer token on every request. `options` go to openapi-fetch (a custom `fetch`,
 * more default headers).
 */
export function createOvertureClient(baseUrl: string, token: string, options: Omit<ClientOptions, 'baseUrl'> = {}): OvertureClient {
  const { headers, ...rest } = options;
  return createClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { ...(headers as Record<string, string> | undefined), Authorization: `Bearer ${token}` },
  });
}

/** The outcome of one call, as openapi-fetch returns it. */
interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The body of a successful call, or an Error naming the call, the status and the problem's
 * `code` and `detail` (RFC 9457) otherwise.
 */
export function ok<T>(outcome: Outcome<T>, what = `${outcome.response.url}`): T {
  if (outcome.response.ok && outcome.data !== undefined) return outcome.data;
  const problem = (outcome.error ?? {}) as { code?: string; detail?: string };
  throw new Error(`${what}: ${outcome.response.status} ${problem.code ?? ''} ${problem.detail ?? ''}`.trim());
}
