// Every call the workbench makes goes through here: the public /v1 API, the user's own token,
// nothing else. The token lives in sessionStorage (this tab only), under the same key as /reports.

const TOKEN_KEY = 'overture.token';

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  keep: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A refused call: `status` 0 when the server could not be reached, `problem` the problem+json body. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || (status ? `The server answered ${status}.` : 'The server could not be reached.'));
    this.status = status;
    this.problem = problem ?? null;
  }
  get code() {
    return this.problem?.code ?? null;
  }
}

let onUnauthorized = () => {};
/** Called once for any 401 (token revoked or expired mid-session). */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/**
 * One API call. Resolves to `{ status, data, etag, replayed }`; rejects with ApiError.
 * `bearer` overrides the stored token (signing in checks a token before keeping it).
 */
export async function call(method, path, { body, headers = {}, bearer = session.token() } = {}) {
  // This server's API only: a path under /v1/, never a URL (test/no-outbound.test.ts checks this line is here).
  if (!path.startsWith('/v1/')) throw new ApiError(0, { detail: 'Not an API path.' });
  const init = {
    method,
    headers: { authorization: `Bearer ${bearer}`, accept: 'application/json', ...headers },
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, { detail: 'The connection failed before the server answered.' });
  }
  let data = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page, say): the status alone has to do.
    }
  }
  if (!res.ok) {
    if (res.status === 401 && bearer === session.token()) onUnauthorized();
    throw new ApiError(res.status, data && typeof data === 'object' ? data : null);
  }
  return { status: res.status, data, etag: res.headers.get('etag'), replayed: res.headers.get('idempotent-replayed') === 'true' };
}

export const get = async (path) => (await call('GET', path)).data;
export const post = (path, body = {}, headers) => call('POST', path, { body, headers });
export const patch = (path, body, headers) => call('PATCH', path, { body, headers });

/** Every page of a list (`{ items, nextCursor }`), up to `max` items. */
export async function getAll(path, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items;
}

/** An Idempotency-Key: random, visible ASCII (crypto.randomUUID needs a secure context; this does not). */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `wb-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
