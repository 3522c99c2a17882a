/**
 * Structured JSON logs. Request lines keep method, path and status only: credentials travel in
 * headers, signed-URL queries and (for v1) a path segment, and none of them may reach a log.
 */
import { pino, type Logger } from "pino";

export type { Logger };

/** Query parameters whose values are secrets (the signature of a signed URL). */
const SECRET_QUERY = /([?&](?:sig|token)=)[^&]*/gi;

/** Strips secret query values from a URL before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, "$1REDACTED");
}

interface LoggedRequest {
  method?: string;
  routeOptions?: { url?: string };
}

/**
 * A request, when some library logs one, is reduced to its method and route pattern: the URL,
 * the headers and the query are exactly where tokens and signatures travel.
 */
function requestFields(request: LoggedRequest): Record<string, unknown> {
  return { method: request.method, route: request.routeOptions?.url ?? "(no route)" };
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "gha-cache" },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { req: requestFields },
      redact: {
        paths: ["token", "*.token", "authorization", "*.authorization", "secret", "*.secret"],
        censor: "REDACTED",
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
