import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { QUEUE_NAMES } from '../../queue/jobs.js';
import { authenticate } from '../../domain/staff/tokens.js';
import type { AppDeps } from '../deps.js';
import { problem, sendProblem } from './errors.js';

export const BOARD_PATH = '/admin/queues';
const COOKIE = 'overture_board';

const LOGIN_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Overture queues: sign in</title>
<style>body{font:16px system-ui;max-width:32rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;margin:.5rem 0}button{padding:.5rem 1rem}</style></head>
<body><h1>Queue board</h1><p>Paste an <strong>admin</strong> token. It is kept in an HTTP-only cookie for this page only.</p>
<form id="f"><input id="t" type="password" autocomplete="off" placeholder="ovt_…" required><button>Sign in</button></form><p id="e" role="alert"></p>
<script>document.getElementById('f').addEventListener('submit',async(ev)=>{ev.preventDefault();
const r=await fetch('${BOARD_PATH}/login',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({token:document.getElementById('t').value})});
if(r.ok){location.href='${BOARD_PATH}'}else{document.getElementById('e').textContent='That is not an active admin token.'}});</script></body></html>`;

function cookieToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** Bull Board for admins at /admin/queues: a Bearer admin token, or the cookie its sign-in page sets. */
export async function queueBoard(app: FastifyInstance, deps: AppDeps) {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(deps.queues.queue(name) as never, { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Overture queues' } },
  });

  app.get(`${BOARD_PATH}/login`, { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(LOGIN_PAGE),
  );
  app.post(
    `${BOARD_PATH}/login`,
    { config: { auth: 'public' }, schema: { hide: true, body: z.strictObject({ token: z.string().max(200) }) } },
    async (request, reply) => {
      const principal = await authenticate(deps.db, deps.secret, (request.body as { token: string }).token);
      if (principal?.role !== 'admin') return sendProblem(reply, problem(request, 401, 'auth.unauthorized', 'Not an active admin token.'));
      const secure = request.protocol === 'https' ? '; Secure' : '';
      reply.header('set-cookie', `${COOKIE}=${encodeURIComponent((request.body as { token: string }).token)}; Path=${BOARD_PATH}; HttpOnly; SameSite=Strict${secure}`);
      return reply.code(204).send();
    },
  );

  await app.register(async (board) => {
    board.addHook('onRequest', async (request, reply) => {
      const header = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      const token = header ?? cookieToken(request);
      const principal = token ? await authenticate(deps.db, deps.secret, token) : undefined;
      if (principal?.role === 'admin') return;
      // Only a browser that sent no credentials at all is sent to sign in.
      if (request.headers.authorization === undefined && request.method === 'GET' && !request.url.includes('/api/')) {
        return reply.redirect(`${BOARD_PATH}/login`);
      }
      return sendProblem(reply, problem(request, principal ? 403 : 401, principal ? 'auth.forbidden' : 'auth.unauthorized', 'The queue board is for admins.'));
    });
    await board.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  });
}
