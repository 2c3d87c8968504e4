import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { buildServer } from '../src/http/app.js';
import { createTestApp, expectProblem, TEST_SECRET, type TestApp } from './helpers/app.js';

/** inject() skips Node's HTTP parser: these requests go over a real socket. */
interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Writes `raw` (then, optionally, ends the write side, or writes `next` once the first answer
 * arrives) and reads every response until the server closes the connection.
 */
function exchange(port: number, raw: string, opts: { end?: boolean; next?: string } = {}): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => {
      if (chunks.length === 0 && opts.next) socket.write(opts.next);
      chunks.push(c);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(parseResponses(Buffer.concat(chunks).toString('utf8'))));
    socket.on('connect', () => {
      socket.write(raw);
      if (opts.end) socket.end();
    });
  });
}

function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    const [statusLine, ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const bodyStart = headEnd + 4;
    const body = Buffer.from(rest.slice(bodyStart), 'utf8').subarray(0, length).toString('utf8');
    out.push({ status: Number(statusLine!.split(' ')[1]), headers, body });
    rest = rest.slice(bodyStart + body.length);
  }
  return out;
}

/** The same checks as expectProblem, on a raw response. */
function problemOf(res: RawResponse | undefined, status: number, code: string) {
  expect(res, 'a response').toBeDefined();
  return expectProblem({ statusCode: res!.status, headers: res!.headers, json: () => JSON.parse(res!.body) }, status, code);
}

describe('errors raised before routing are problem+json', () => {
  let t: TestApp;
  let port: number;
  let auth: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ logLines });
    auth = `authorization: ${(await t.staff('admin', null)).auth.authorization}\r\n`;
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  it('a Content-Length that is not a number: 400 request.invalid_content_length, connection closed', async () => {
    const [res] = await exchange(
      port,
      `POST /v1/programs HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: abc\r\n\r\n{}`,
    );
    const body = problemOf(res, 400, 'request.invalid_content_length');
    expect(res!.headers['connection']).toBe('close');
    expect(body['requestId']).toMatch(UUID_V7);
    expect(res!.headers['x-request-id']).toBe(body['requestId']);
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type']);
  });

  it('Content-Length given twice, or with Transfer-Encoding: 400 problems', async () => {
    const [both] = await exchange(
      port,
      `POST /v1/programs HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    );
    problemOf(both, 400, 'request.invalid_transfer_encoding');
    const [twice] = await exchange(
      port,
      `POST /v1/programs HTTP/1.1\r\nhost: x\r\n${auth}content-length: 2\r\ncontent-length: 3\r\n\r\n{}`,
    );
    problemOf(twice, 400, 'request.invalid_content_length');
  });

  it('a Content-Length shorter than the body: what follows it is a malformed request, answered as a problem', async () => {
    const responses = await exchange(
      port,
      `POST /v1/programs HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: 5\r\n\r\n{"name": "x"}`,
    );
    expect(responses.length).toBeGreaterThan(0);
    for (const r of responses) expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    problemOf(responses.at(-1), 400, 'request.malformed');
  });

  it('a Content-Length longer than the body the client sends before it stops: 400 request.invalid_content_length', async () => {
    const [res] = await exchange(
      port,
      `POST /v1/programs HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: 50\r\n\r\n{}`,
      {
        end: true,
      },
    );
    problemOf(res, 400, 'request.invalid_content_length');
  });

  it('a Content-Length that disagrees with the body Fastify received: 400 request.invalid_content_length', async () => {
    const admin = { authorization: auth.slice('authorization: '.length, -2) };
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/programs',
      headers: { ...admin, 'content-type': 'application/json', 'content-length': '10' },
      payload: '{}',
    });
    expectProblem(res, 400, 'request.invalid_content_length');
  });

  it('headers too large: 431 request.headers_too_large', async () => {
    const [res] = await exchange(port, `GET /v1/me HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    problemOf(res, 431, 'request.headers_too_large');
    expect(res!.headers['connection']).toBe('close');
  });

  it('a malformed request line or header: 400 request.malformed, and the raw request is not logged', async () => {
    const marker = 'mkraw7c1e';
    const [line] = await exchange(port, 'GARBAGE\r\n\r\n');
    problemOf(line, 400, 'request.malformed');
    const [header] = await exchange(
      port,
      `GET /v1/me HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ovt_${marker}\r\nbad header: ${marker}\r\n\r\n`,
    );
    problemOf(header, 400, 'request.malformed');
    expect(logLines.join('\n')).toContain('client error');
    expect(logLines.join('\n')).not.toContain(marker);
  });

  it("a request that arrives while the server closes: 503 problem+json, not Fastify's own body", async () => {
    // A keep-alive connection whose first request, held until close() has begun, is answered;
    // the second request it then sends reaches a closing server.
    const server = await buildServer({
      config: loadConfig({
        DATABASE_URL: t.db.url,
        OVERTURE_SECRET: TEST_SECRET,
        OVERTURE_RATE_LIMIT_PER_IP: '0',
        OVERTURE_RATE_LIMIT_PER_TOKEN: '0',
      }),
      db: t.db.db,
      pool: t.db.pool,
      secret: TEST_SECRET,
      clock: t.clock,
      queues: t.queues,
      logger: t.logger,
    });
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let started!: () => void;
    const inFlight = new Promise<void>((r) => {
      started = r;
    });
    server.addHook('onRequest', async (request) => {
      if (request.headers['x-hold'] === '1') {
        started();
        await held;
      }
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    const serverPort = (server.server.address() as AddressInfo).port;
    const answers = exchange(serverPort, 'GET /healthz HTTP/1.1\r\nhost: x\r\nx-hold: 1\r\n\r\n', {
      next: 'GET /v1/me HTTP/1.1\r\nhost: x\r\n\r\n',
    });
    await inFlight;
    const closed = server.close();
    await new Promise((r) => setImmediate(r));
    release();
    const responses = await answers;
    await closed;
    expect(responses[0]!.status).toBe(200);
    problemOf(responses[1], 503, 'service.unavailable');
    expect(responses[1]!.headers['connection']).toBe('close');
  });
});
