/** A failure the caller caused or can act on; mapped to problem+json in one place (http/plugins/errors). */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** For handlers that only know Fastify's convention (e.g. Bull Board's own). */
  get statusCode(): number {
    return this.status;
  }
}

export const notFound = (what: string) => new DomainError(404, `${what}.not_found`, `No such ${what}, or it is outside your scope.`);
export const forbidden = (message = 'Your role may not do this.') => new DomainError(403, 'auth.forbidden', message);
export const conflict = (code: string, message: string, extra: Record<string, unknown> = {}) => new DomainError(409, code, message, extra);
export const invalid = (code: string, message: string, path?: string) =>
  new DomainError(400, code, message, path ? { errors: [{ path, message }] } : {});
