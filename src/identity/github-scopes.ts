/**
 * The cache scopes GitHub writes into its own runtime token: the `ac` claim, a string holding a
 * JSON list of `{"Scope": "<ref>", "Permission": <bits>}` with read = 1 and write = 2 (3 is
 * both). The list is in the order GitHub wants lookups to search (own ref, base, default).
 */
import { unauthenticated } from "../errors.js";

const READ_BIT = 1;
const WRITE_BIT = 2;

/** The only scopes a cache entry can live in: a branch, a tag or a pull request's merge ref. */
const FULL_REF = /^refs\/(?:(?:heads|tags)\/[^\s,]+|pull\/\d+\/merge)$/;

export interface TokenScopes {
  /** Readable refs, in token order, without duplicates. */
  readScopes: string[];
  /** The one writable ref, or null when the token grants none (or, ambiguously, several). */
  writeScope: string | null;
  /** Why writeScope is what it is, for the decision log. */
  writeReason: string;
}

interface ScopeGrant {
  Scope: string;
  Permission: number;
}

/** Parses `ac`; a claim that is not the documented shape refuses the token (401). */
export function scopesFromAcClaim(ac: unknown): TokenScopes {
  const grants = parseGrants(ac);
  const readScopes: string[] = [];
  const writable: string[] = [];
  for (const grant of grants) {
    // A scope that is not a full ref cannot be an entry's scope: it grants nothing here.
    if (!FULL_REF.test(grant.Scope)) continue;
    if ((grant.Permission & READ_BIT) !== 0 && !readScopes.includes(grant.Scope))
      readScopes.push(grant.Scope);
    if ((grant.Permission & WRITE_BIT) !== 0 && !writable.includes(grant.Scope))
      writable.push(grant.Scope);
  }
  const [only] = writable;
  if (only === undefined)
    return { readScopes, writeScope: null, writeReason: "the token grants no writable scope" };
  if (writable.length > 1) {
    // GitHub grants one writable ref per job; several is not a shape we know, so none is chosen.
    return {
      readScopes,
      writeScope: null,
      writeReason: "the token grants several writable scopes",
    };
  }
  return { readScopes, writeScope: only, writeReason: "the token's writable scope" };
}

function parseGrants(ac: unknown): ScopeGrant[] {
  const malformed = () =>
    unauthenticated('GitHub token claim "ac" must be a JSON list of {Scope, Permission}');
  if (typeof ac !== "string") throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(ac);
  } catch {
    throw malformed();
  }
  if (!Array.isArray(parsed)) throw malformed();
  return parsed.map((item: unknown) => {
    const grant = item as Partial<ScopeGrant> | null;
    if (
      typeof grant !== "object" ||
      grant === null ||
      typeof grant.Scope !== "string" ||
      !Number.isSafeInteger(grant.Permission) ||
      (grant.Permission ?? -1) < 0
    ) {
      throw malformed();
    }
    return { Scope: grant.Scope, Permission: grant.Permission as number };
  });
}
