import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Every logger is built here, so every error reaches a log line through `serializeError`: what an
 * error says about a request's values (SQL parameters, quoted input, URLs, headers) never does.
 */
export interface LoggerOpts {
  level?: string;
  /** pino-pretty in a terminal (default: when stdout is a TTY and no destination is given), when installed. */
  pretty?: boolean;
  /** Where lines go (default: stdout); tests collect them. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOpts = {}): Logger {
  const pretty = (opts.pretty ?? (!opts.destination && process.stdout.isTTY === true)) && prettyInstalled();
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    serializers: { err: serializeError, error: serializeError, req: serializeRequest, res: serializeReply },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["set-cookie"]',
        'res.headers["set-cookie"]',
        'headers.authorization',
        'headers.cookie',
        'headers["set-cookie"]',
        'authorization',
        'cookie',
        'token',
        '*.token',
        'password',
      ],
      censor: '[redacted]',
    },
    hooks: { logMethod },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } }
      : {}),
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** pino-pretty is an optional dependency (the production image omits it): JSON lines without it. */
function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/** pino would make the raw `err.message` the line's `msg` (`log.error(err)`, `log.warn({ err })`, Fastify's `log.error({ err }, err.message)`). */
function logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
  const [first, second] = args;
  if (first instanceof Error) {
    if (typeof second === 'string') return method.apply(this, [{ err: first }, ...args.slice(1)]);
    return method.apply(this, [{ err: first }, redactedMessage(first), ...args.slice(1)]);
  }
  const err = first && typeof first === 'object' ? (first as { err?: unknown }).err : undefined;
  if (err && typeof err === 'object') {
    const raw = (err as { message?: unknown }).message;
    if (typeof second !== 'string') return method.apply(this, [first, redactedMessage(err), ...args.slice(1)]);
    if (second === raw) return method.apply(this, [first, redactedMessage(err), ...args.slice(2)]);
  }
  return method.apply(this, args);
}

/** PostgreSQL error fields that name a thing (a code, a table), never a value. */
const NAMING_FIELDS = ['severity', 'routine', 'constraint', 'table', 'column', 'schema', 'dataType'] as const;
const MAX_CAUSES = 5;
const MAX_FRAMES = 12;
const MAX_MESSAGE = 500;
export const REDACTED = '…';

export interface SafeError {
  type: string;
  message: string;
  stack?: string;
  name?: string;
  code?: string | number;
  cause?: SafeError;
  errors?: SafeError[];
  [field: string]: unknown;
}

/** The pino `err` serializer: type, code, naming fields and a message with no value in it. */
export function serializeError(err: unknown, depth = 0): SafeError {
  if (typeof err !== 'object' || err === null) return { type: typeof err, message: `[thrown ${typeof err}]` };
  const e = err as Record<string, unknown>;
  const type = typeOf(err);
  const out: SafeError = { type, message: redactedMessage(err) };
  if (typeof e['name'] === 'string' && e['name'] !== type && e['name'] !== 'error' && e['name'] !== 'Error') out.name = e['name'];
  if (typeof e['code'] === 'string' || typeof e['code'] === 'number') out.code = e['code'];
  for (const k of NAMING_FIELDS) if (typeof e[k] === 'string' && e[k] !== '') out[k] = e[k];
  if (typeof e['syscall'] === 'string') out['syscall'] = e['syscall'];
  if (typeof e['statusCode'] === 'number') out['statusCode'] = e['statusCode'];
  const stack = safeStack(err, out.name ?? type, out.message);
  if (stack) out.stack = stack;
  if (depth < MAX_CAUSES) {
    if (e['cause'] !== undefined && e['cause'] !== null) out.cause = serializeError(e['cause'], depth + 1);
    if (Array.isArray(e['errors'])) out.errors = e['errors'].slice(0, 5).map((x) => serializeError(x, depth + 1));
  }
  return out;
}

/** The error's message with every value taken out (what BullMQ and job runs may store too). */
export function redactedMessage(err: unknown, depth = 0): string {
  if (typeof err !== 'object' || err === null) return `[thrown ${typeof err}]`;
  const e = err as Record<string, unknown>;
  // drizzle's message is "Failed query: <sql> params: <values>"; the driver's error is its cause.
  if (isDrizzleQueryError(err))
    return e['cause'] && depth < MAX_CAUSES ? `query failed: ${redactedMessage(e['cause'], depth + 1)}` : 'query failed';
  // Node's system errors name the host, address or path they failed on; syscall and code suffice.
  if (typeof e['syscall'] === 'string' && typeof e['code'] === 'string') return `${e['syscall']} ${e['code']}`;
  const names = NAMING_FIELDS.filter((k) => k !== 'severity' && k !== 'routine')
    .map((k) => e[k])
    .filter((v): v is string => typeof v === 'string' && v !== '');
  return redactText(typeof e['message'] === 'string' ? e['message'] : '', names);
}

/**
 * The rule: PostgreSQL (and most libraries) quote the values they complain about, so everything
 * from the first quote to the last is replaced, except an identifier the error itself names in a
 * naming field (its table, column, constraint, schema or type); byte sequences (`0x00`) and URLs
 * are replaced too, and a message is cut to its first line.
 */
export function redactText(text: string, names: string[] = []): string {
  let s = text.split('\n', 1)[0]!.slice(0, MAX_MESSAGE);
  const kept: string[] = [];
  for (const name of new Set(names)) {
    if (!name.includes('"')) s = s.split(`"${name}"`).join(`\uE000${kept.push(name) - 1}\uE001`);
  }
  s = s.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S*/gi, '[url]');
  s = blankQuoted(s, '"', s.indexOf('"'));
  // An apostrophe inside a word ("doesn't") opens no quote.
  s = blankQuoted(s, "'", s.search(/(?<![A-Za-z0-9])'/));
  s = s.replace(/\b0x[0-9a-f]+/gi, `0x${REDACTED}`);
  return s.replace(/\uE000(\d+)\uE001/g, (_m, i: string) => `"${kept[Number(i)]}"`);
}

/** From the opening quote to the last quote (or the end, when none closes it). */
function blankQuoted(s: string, quote: string, open: number): string {
  if (open === -1) return s;
  const close = s.lastIndexOf(quote);
  return close > open ? `${s.slice(0, open)}${quote}${REDACTED}${quote}${s.slice(close + 1)}` : `${s.slice(0, open)}${quote}${REDACTED}`;
}

/** The stack rebuilt on the redacted message: V8's frames (function and file names) only. */
export function safeStack(err: unknown, name: string, message: string): string | undefined {
  const e = err as { stack?: unknown; message?: unknown; name?: unknown };
  if (typeof e.stack !== 'string') return undefined;
  const original = typeof e.message === 'string' ? e.message : '';
  // Only a stack that begins with the original message is known to hold no value below it.
  const header = [e.name, typeOf(err as object), 'Error']
    .map((n) => (original ? `${String(n)}: ${original}` : String(n)))
    .find((h) => (e.stack as string).startsWith(`${h}\n`));
  const rest = header === undefined ? '' : e.stack.slice(header.length + 1);
  const frames = rest
    .split('\n')
    .filter((l) => /^ {4}at [^"'`]+$/.test(l))
    .slice(0, MAX_FRAMES);
  return [`${name}: ${message}`, ...frames].join('\n');
}

function typeOf(err: object): string {
  const name = (err as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : 'Error';
}

function isDrizzleQueryError(err: object): boolean {
  return typeOf(err) === 'DrizzleQueryError' || ('query' in err && 'params' in err);
}

/** A logged URL keeps its path; the query string (values a client chose) is dropped. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[redacted]`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's request serializer without the host header and the query string. */
export function serializeRequest(req: LoggedRequest) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : undefined,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

function serializeReply(reply: { statusCode?: number }) {
  return { statusCode: reply.statusCode };
}
