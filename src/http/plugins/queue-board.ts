import { createHash } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { BOARD_SESSION_MS, boardSessionHolder, endBoardSession, startBoardSession } from '../../domain/staff/board-sessions.js';
import { authenticate } from '../../domain/staff/tokens.js';
import { QUEUE_NAMES } from '../../queue/jobs.js';
import type { AppDeps } from '../deps.js';
import { problem, sendProblem } from './errors.js';

export const BOARD_PATH = '/admin/queues';
export const BOARD_COOKIE = 'overture_board';
const LOGIN_PATH = `${BOARD_PATH}/login`;

const LOGIN_STYLE =
  'body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}' +
  'label{display:block;margin-top:1rem}input{box-sizing:border-box;width:100%;padding:.5rem;margin:.5rem 0}' +
  'button{padding:.5rem 1rem}#sign-out{margin-top:2rem}';

const LOGIN_SCRIPT = `
const error = document.getElementById('error');
const token = document.getElementById('token');
document.getElementById('sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const res = await fetch('${BOARD_PATH}/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token.value }) });
  token.value = '';
  if (res.ok) return location.assign('${BOARD_PATH}/');
  error.textContent = res.status === 429 ? 'Too many attempts: retry in ' + res.headers.get('retry-after') + ' s.' : 'That is not an active admin token.';
});
document.getElementById('sign-out').addEventListener('submit', async (event) => {
  event.preventDefault();
  const res = await fetch('${BOARD_PATH}/logout', { method: 'POST' });
  error.textContent = res.ok ? 'Signed out.' : 'Could not sign out: try again.';
});
`;

// Inputs have no name: were the script blocked, submitting would put nothing in the URL.
const LOGIN_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>Overture queues: sign in</title><style>${LOGIN_STYLE}</style></head>
<body><main><h1>Queue board</h1>
<p>Paste an <strong>admin</strong> token to open a board session of one hour. The token is sent once and never kept in the browser.</p>
<form id="sign-in"><label for="token">Admin token</label><input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="ovt_…" required><button>Sign in</button></form>
<p id="error" role="alert"></p>
<form id="sign-out"><button>Sign out of the board</button></form>
</main><script>${LOGIN_SCRIPT}</script></body></html>`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The sign-in page may run exactly its own script and style, and talk only to this server. */
export const LOGIN_CSP = [
  "default-src 'none'",
  `script-src ${sha256(LOGIN_SCRIPT)}`,
  `style-src ${sha256(LOGIN_STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * What Bull Board's own page needs (@bull-board/ui 9.10): its scripts, styles, images, locales,
 * API and highlight worker from its own path; `<base href>` for its relative URLs; data: images
 * in CodeMirror's theme. Inline styles because its loading placeholder, CodeMirror's style-mod and
 * base-ui inject `<style>` elements with no way to give them a nonce; scripts stay 'self' only.
 * Google Fonts, which its page links, stay blocked (no third-party request from an admin's browser).
 */
export const BOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The session id from our cookie, if the request carries one (format is checked where it is used). */
function sessionCookie(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === BOARD_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `Secure` whenever the request came over TLS (directly, or per X-Forwarded-Proto from a trusted proxy). */
function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number) {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${BOARD_COOKIE}=${value}; Path=${BOARD_PATH}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`);
}

/** The board's routes answer in Bull Board's scope, whose error handler is Bull Board's: send problems directly. */
function sendError(request: FastifyRequest, reply: FastifyReply, err: DomainError) {
  const { retryAfter, ...extra } = err.extra;
  if (err.status === 429) reply.header('retry-after', String(retryAfter ?? 1));
  return sendProblem(reply, problem(request, err.status, err.code, err.message, extra));
}

/**
 * Bull Board for admins at /admin/queues: a Bearer admin token (scripts), or the session cookie its
 * sign-in page sets. Every route is rate limited per address like the API.
 */
export async function queueBoard(app: FastifyInstance, deps: AppDeps) {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(deps.queues.queue(name) as never, { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Overture queues' } },
  });

  // Public routes: the auth hook applies the per-address limit to them before anything else.
  app.get(LOGIN_PATH, { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', LOGIN_CSP)
      .header('x-frame-options', 'DENY')
      .header('cache-control', 'no-store')
      .send(LOGIN_PAGE),
  );
  app.post(
    LOGIN_PATH,
    { config: { auth: 'public' }, schema: { hide: true, body: z.strictObject({ token: z.string().max(200) }) } },
    async (request, reply) => {
      const principal = await authenticate(deps.db, deps.secret, (request.body as { token: string }).token);
      if (principal?.role !== 'admin') {
        request.log.info({ reason: principal ? 'not_admin' : 'invalid_token' }, 'queue board sign-in refused');
        throw new DomainError(401, 'auth.unauthorized', 'Not an active admin token.');
      }
      const session = await startBoardSession(deps.db, deps.secret, principal, deps.clock.now());
      setSessionCookie(request, reply, session.id, BOARD_SESSION_MS / 1000);
      return reply.code(204).header('cache-control', 'no-store').send();
    },
  );
  app.post(
    `${BOARD_PATH}/logout`,
    { config: { auth: 'public' }, schema: { hide: true, body: z.strictObject({}).nullish() } },
    async (request, reply) => {
      const id = sessionCookie(request);
      if (id) await endBoardSession(deps.db, deps.secret, id);
      setSessionCookie(request, reply, '', 0);
      return reply.code(204).header('cache-control', 'no-store').send();
    },
  );

  await app.register(async (board) => {
    board.addHook('onRequest', async (request, reply) => {
      try {
        await app.perIpLimit?.(request);
      } catch (err) {
        if (err instanceof DomainError) return sendError(request, reply, err);
        throw err;
      }
      const authorization = request.headers.authorization;
      if (authorization !== undefined) {
        const token = /^Bearer (\S+)$/i.exec(authorization)?.[1];
        const principal = token ? await authenticate(deps.db, deps.secret, token) : undefined;
        if (principal?.role === 'admin') return;
        return principal
          ? sendError(request, reply, new DomainError(403, 'auth.forbidden', 'The queue board is for admins.'))
          : sendError(
              request,
              reply,
              new DomainError(401, 'auth.unauthorized', 'The token is unknown, revoked, or its holder is deactivated.'),
            );
      }
      const id = sessionCookie(request);
      if (id !== undefined) {
        if (await boardSessionHolder(deps.db, deps.secret, id, deps.clock.now())) return;
        setSessionCookie(request, reply, '', 0);
      }
      // A browser asking for a page is sent to sign in; API calls and scripts get a problem.
      if (request.method === 'GET' && !request.routeOptions.url?.startsWith(`${BOARD_PATH}/api/`)) return reply.redirect(LOGIN_PATH);
      return sendError(
        request,
        reply,
        new DomainError(401, 'auth.unauthorized', 'Sign in at /admin/queues/login, or send an admin token.'),
      );
    });
    board.addHook('onSend', async (request, reply) => {
      reply.header('content-security-policy', BOARD_CSP).header('x-frame-options', 'DENY');
      // What the board shows (job data, failure reasons) is not for shared caches or the back button.
      if (!request.url.startsWith(`${BOARD_PATH}/static/`)) reply.header('cache-control', 'no-store');
    });
    await board.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  });
}
