/**
 * Key and version rules, the same the official client checks before it calls (actions/toolkit
 * `cache.ts`): the server enforces them too, because not every client is the official one.
 */
import { badRequest } from "../errors.js";

export const MAX_KEY_LENGTH = 512;
/** Primary key plus restore keys in one lookup. */
export const MAX_KEYS_PER_LOOKUP = 10;
export const MAX_VERSION_LENGTH = 512;

export function validateKey(key: unknown, what = "key"): string {
  if (typeof key !== "string" || key.length === 0) throw badRequest(`${what} is required`);
  if (key.length > MAX_KEY_LENGTH) {
    throw badRequest(`${what} is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}`);
  }
  // v1 joins keys with commas, so a comma inside one key would split it.
  if (key.includes(",")) throw badRequest(`${what} must not contain a comma`);
  return key;
}

export function validateVersion(version: unknown): string {
  if (typeof version !== "string" || version.length === 0) throw badRequest("version is required");
  if (version.length > MAX_VERSION_LENGTH) {
    throw badRequest(
      `version is ${version.length} characters long; the limit is ${MAX_VERSION_LENGTH}`,
    );
  }
  return version;
}

/** Validates a lookup's keys: the primary key first, then the restore keys in order. */
export function validateLookupKeys(keys: unknown[]): string[] {
  if (keys.length === 0) throw badRequest("at least one key is required");
  if (keys.length > MAX_KEYS_PER_LOOKUP) {
    throw badRequest(
      `${keys.length} keys given; at most ${MAX_KEYS_PER_LOOKUP} keys (primary plus restore keys) are allowed`,
    );
  }
  return keys.map((key, index) => validateKey(key, index === 0 ? "key" : `restore key ${index}`));
}
