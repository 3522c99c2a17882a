/**
 * Typed reading of the values a v1 request carries (query strings, path ids, JSON fields), each
 * refused with a 400 that names the value and says what was expected.
 */
import { badRequest } from "../../errors.js";

/** A query parameter given once; a repeated parameter arrives as an array and is refused. */
export function singleQueryValue(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw badRequest(`query parameter ${name} must be given once`);
  return value;
}

/** A cache id in a path: the positive whole number reserve answered. */
export function cacheIdOf(params: unknown): number {
  const raw = (params as Record<string, unknown> | undefined)?.cacheId;
  const id = typeof raw === "string" && /^\d{1,15}$/.test(raw) ? Number(raw) : 0;
  if (id <= 0) {
    throw badRequest(`cache id "${String(raw).slice(0, 40)}" must be a positive whole number`);
  }
  return id;
}

/** The JSON object a POST must carry. */
export function jsonObjectOf(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** A byte count: a whole number, at least zero. */
export function byteCountOf(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(
      `${name} must be a whole number of bytes, got ${JSON.stringify(value)?.slice(0, 40)}`,
    );
  }
  return value;
}
