/**
 * Service configuration, read once from environment variables and validated at start.
 *
 * Every variable is documented in the README. A bad value stops the process with a message
 * that names the variable and says what is wrong; nothing falls back silently, and a
 * GHA_CACHE_* variable this file does not know (a typo) is an error too.
 */
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const DEFAULT_PORT = 3000;
const MAX_PORT = 65535;
/** Durations in seconds (_S) and milliseconds (_MS), for defaults and bounds below. */
const MINUTE_S = 60;
const HOUR_S = 60 * MINUTE_S;
const DAY_S = 24 * HOUR_S;
const WEEK_S = 7 * DAY_S;
const SECOND_MS = 1000;

/** Prefix of every variable this service reads; an unknown one is reported, not ignored. */
const PREFIX = "GHA_CACHE_";
/** HMAC and HS256 keys shorter than this are guessable; `openssl rand -hex 32` gives 64. */
export const MIN_SECRET_LENGTH = 32;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
/** A host name as the listen call takes it: letters, digits, dots and dashes, no port. */
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

export interface GitHubAppConfig {
  appId: string;
  privateKey: string;
  apiUrl: string;
}

/**
 * Verification of GitHub's own runtime token (off when the JWKS URL is unset). GitHub documents
 * neither its keys nor a repository claim, so the operator names them; see github-token.ts.
 */
export interface GitHubTokenConfig {
  jwksUrl: string;
  issuer: string;
  /** Checked only when set: GitHub's audience is not documented either. */
  audience: string | undefined;
  /** The claim holding the repository as `owner/name`. */
  repositoryClaim: string;
  /** The claim holding the numeric run id, for the cross-check with the webhook; optional. */
  runIdClaim: string | undefined;
}

export interface Config {
  host: string;
  port: number;
  /** Origin the runners reach this service at; signed URLs and printed runner settings use it. */
  publicUrl: string;
  /** False when publicUrl is only the local default, which remote runners cannot reach. */
  publicUrlConfigured: boolean;
  dataDir: string;
  /** HS256 secret for runner tokens; undefined means "generate once and keep in the data folder". */
  tokenSecret: string | undefined;
  /** HMAC secret for signed upload and download URLs; same default as tokenSecret. */
  urlSigningSecret: string | undefined;
  webhookSecret: string | undefined;
  github: GitHubAppConfig | undefined;
  githubToken: GitHubTokenConfig | undefined;
  /** Origin non-cache results-service calls (artifacts) are passed to; undefined answers 404. */
  resultsUpstreamUrl: string | undefined;
  maxEntryBytes: number;
  uploadTimeoutSeconds: number;
  signedUrlTtlSeconds: number;
  /** Time a cache call may spend asking GitHub who the runner works for before it fails closed. */
  resolveBudgetMs: number;
  /** How long a failed resolution is remembered, so a burst of calls is not a burst of API calls. */
  negativeCacheMs: number;
  housekeepingIntervalSeconds: number;
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** Reads and validates the configuration; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const reader = new EnvReader(env, problems);

  const host = reader.host("GHA_CACHE_HOST", "0.0.0.0");
  const port = reader.integer("GHA_CACHE_PORT", DEFAULT_PORT, 0, MAX_PORT);
  const publicUrl = reader.origin("GHA_CACHE_PUBLIC_URL");
  const dataDir = path.resolve(reader.string("GHA_CACHE_DATA_DIR", "./data"));
  const tokenSecret = reader.secret("GHA_CACHE_TOKEN_SECRET");
  const urlSigningSecret = reader.secret("GHA_CACHE_URL_SIGNING_SECRET");
  const webhookSecret = reader.secret("GHA_CACHE_WEBHOOK_SECRET");
  const github = readGitHubApp(reader);
  const githubToken = readGitHubToken(reader);
  const resultsUpstreamUrl = reader.origin("GHA_CACHE_RESULTS_UPSTREAM_URL");
  const maxEntryBytes = reader.integer(
    "GHA_CACHE_MAX_ENTRY_BYTES",
    10 * GiB,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const uploadTimeoutSeconds = reader.integer(
    "GHA_CACHE_UPLOAD_TIMEOUT_SECONDS",
    HOUR_S,
    1,
    WEEK_S,
  );
  const signedUrlTtlSeconds = reader.integer("GHA_CACHE_SIGNED_URL_TTL_SECONDS", HOUR_S, 1, WEEK_S);
  const resolveBudgetMs = reader.integer(
    "GHA_CACHE_RESOLVE_BUDGET_MS",
    10 * SECOND_MS,
    100,
    120 * SECOND_MS,
  );
  const negativeCacheMs = reader.integer(
    "GHA_CACHE_NEGATIVE_CACHE_MS",
    5 * SECOND_MS,
    0,
    600 * SECOND_MS,
  );
  const housekeepingIntervalSeconds = reader.integer(
    "GHA_CACHE_HOUSEKEEPING_INTERVAL_SECONDS",
    MINUTE_S,
    1,
    DAY_S,
  );
  const logLevel = reader.oneOf("GHA_CACHE_LOG_LEVEL", "info", LOG_LEVELS);
  reader.reportUnknown();

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host,
    port,
    // Without a configured origin, only a runner on this machine can reach the service.
    publicUrl: publicUrl ?? `http://127.0.0.1:${port}`,
    publicUrlConfigured: publicUrl !== undefined,
    dataDir,
    tokenSecret,
    urlSigningSecret,
    webhookSecret,
    github,
    githubToken,
    resultsUpstreamUrl,
    maxEntryBytes,
    uploadTimeoutSeconds,
    signedUrlTtlSeconds,
    resolveBudgetMs,
    negativeCacheMs,
    housekeepingIntervalSeconds,
    logLevel,
  };
}

/** The App is all or nothing: an id without a key (or a key without an id) is an error. */
function readGitHubApp(reader: EnvReader): GitHubAppConfig | undefined {
  const appId = reader.optional("GHA_CACHE_GITHUB_APP_ID");
  const keyFile = reader.optional("GHA_CACHE_GITHUB_PRIVATE_KEY_FILE");
  // Inline keys often arrive with their line breaks escaped as \n (one-line env files).
  const keyInline = reader.optional("GHA_CACHE_GITHUB_PRIVATE_KEY")?.replace(/\\n/g, "\n");
  const apiUrl = reader.url("GHA_CACHE_GITHUB_API_URL", "https://api.github.com");
  if (appId === undefined && keyFile === undefined && keyInline === undefined) return undefined;

  const before = reader.problemCount();
  if (appId === undefined) {
    reader.problem("GHA_CACHE_GITHUB_APP_ID is required when a GitHub App private key is given");
  } else if (!/^(\d+|Iv[0-9A-Za-z._-]+)$/.test(appId)) {
    reader.problem("GHA_CACHE_GITHUB_APP_ID must be the App's numeric id or its client id (Iv...)");
  }
  if (keyFile !== undefined && keyInline !== undefined) {
    reader.problem(
      "set only one of GHA_CACHE_GITHUB_PRIVATE_KEY and GHA_CACHE_GITHUB_PRIVATE_KEY_FILE",
    );
  }
  const privateKey = keyFile !== undefined ? readKeyFile(reader, keyFile) : keyInline;
  if (privateKey === undefined && keyFile === undefined) {
    reader.problem(
      "GHA_CACHE_GITHUB_PRIVATE_KEY_FILE (or GHA_CACHE_GITHUB_PRIVATE_KEY) is required with an App id",
    );
  }
  if (privateKey !== undefined) checkPrivateKey(reader, keyFile !== undefined, privateKey);

  if (reader.problemCount() > before || appId === undefined || privateKey === undefined)
    return undefined;
  return { appId, privateKey, apiUrl: apiUrl.replace(/\/+$/, "") };
}

/** A JWT claim name as an operator would write it: no spaces, no quotes. */
const CLAIM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/** GitHub-token verification is all or nothing, like the App: a JWKS URL needs its issuer. */
function readGitHubToken(reader: EnvReader): GitHubTokenConfig | undefined {
  const jwksUrl = reader.optional("GHA_CACHE_GITHUB_TOKEN_JWKS_URL");
  const issuer = reader.optional("GHA_CACHE_GITHUB_TOKEN_ISSUER");
  const audience = reader.optional("GHA_CACHE_GITHUB_TOKEN_AUDIENCE");
  const repositoryClaim = reader.optional("GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM");
  const runIdClaim = reader.optional("GHA_CACHE_GITHUB_TOKEN_RUN_ID_CLAIM");
  if (
    [jwksUrl, issuer, audience, repositoryClaim, runIdClaim].every((value) => value === undefined)
  ) {
    return undefined;
  }

  const before = reader.problemCount();
  if (jwksUrl === undefined) {
    reader.problem("GHA_CACHE_GITHUB_TOKEN_JWKS_URL is required to verify GitHub's runtime tokens");
  } else {
    reader.url("GHA_CACHE_GITHUB_TOKEN_JWKS_URL", jwksUrl);
  }
  if (issuer === undefined) {
    reader.problem(
      "GHA_CACHE_GITHUB_TOKEN_ISSUER is required with GHA_CACHE_GITHUB_TOKEN_JWKS_URL",
    );
  }
  if (repositoryClaim === undefined) {
    reader.problem(
      "GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM is required with GHA_CACHE_GITHUB_TOKEN_JWKS_URL " +
        "(the claim of GitHub's token that holds owner/name)",
    );
  }
  for (const [name, value] of [
    ["GHA_CACHE_GITHUB_TOKEN_REPOSITORY_CLAIM", repositoryClaim],
    ["GHA_CACHE_GITHUB_TOKEN_RUN_ID_CLAIM", runIdClaim],
  ] as const) {
    if (value !== undefined && !CLAIM_NAME.test(value)) {
      reader.problem(
        `${name} must be a claim name (letters, digits, _ . : -), got "${value.slice(0, 64)}"`,
      );
    }
  }
  if (
    reader.problemCount() > before ||
    jwksUrl === undefined ||
    issuer === undefined ||
    repositoryClaim === undefined
  ) {
    return undefined;
  }
  return { jwksUrl, issuer, audience, repositoryClaim, runIdClaim };
}

function readKeyFile(reader: EnvReader, file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    reader.problem(`GHA_CACHE_GITHUB_PRIVATE_KEY_FILE cannot be read (${code}): ${file}`);
    return undefined;
  }
}

/** Parses the key now, so a truncated or mangled key stops the start instead of the first API call. */
function checkPrivateKey(reader: EnvReader, fromFile: boolean, pem: string): void {
  const name = fromFile ? "GHA_CACHE_GITHUB_PRIVATE_KEY_FILE" : "GHA_CACHE_GITHUB_PRIVATE_KEY";
  try {
    if (!pem.includes("PRIVATE KEY-----")) throw new Error("no PEM header");
    createPrivateKey(pem);
  } catch {
    // The parser's message is not repeated: it could quote part of the key.
    reader.problem(`${name} must hold the App's PEM private key (-----BEGIN RSA PRIVATE KEY-----)`);
  }
}

class EnvReader {
  private readonly known = new Set<string>();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly problems: string[],
  ) {}

  problem(message: string): void {
    this.problems.push(message);
  }

  problemCount(): number {
    return this.problems.length;
  }

  optional(name: string): string | undefined {
    this.known.add(name);
    const value = this.env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  host(name: string, fallback: string): string {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (isIP(raw) === 0 && !HOST_NAME.test(raw)) {
      this.problem(
        `${name} must be an IP address or host name to listen on (no port), got "${raw}"`,
      );
    }
    return raw;
  }

  secret(name: string): string | undefined {
    const value = this.optional(name);
    if (value !== undefined && value.length < MIN_SECRET_LENGTH) {
      // The value itself is never repeated: it is a secret, even when too short.
      this.problem(
        `${name} must be at least ${MIN_SECRET_LENGTH} characters long (use: openssl rand -hex 32)`,
      );
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      this.problem(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  url(name: string, fallback: string): string {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    this.parseUrl(name, raw);
    return raw;
  }

  /**
   * An origin (scheme, host, port) without a path: the v2 client resolves `/twirp/...` against
   * the origin root and signed URLs are served at `/blobs/...`, so a path would be dropped.
   */
  origin(name: string): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    const parsed = this.parseUrl(name, raw);
    if (parsed && parsed.pathname !== "/") {
      this.problem(
        `${name} must be an origin without a path (like https://cache.example.com), got path "${parsed.pathname}"`,
      );
    }
    return parsed?.origin;
  }

  oneOf(name: string, fallback: string, allowed: string[]): string {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!allowed.includes(raw)) {
      this.problem(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
      return fallback;
    }
    return raw;
  }

  /** Call last: every GHA_CACHE_* variable not read above is a typo or a retired name. */
  reportUnknown(): void {
    for (const name of Object.keys(this.env).sort()) {
      if (name.startsWith(PREFIX) && !this.known.has(name)) {
        this.problem(
          `${name} is not a gha-cache setting (see the configuration table in the README)`,
        );
      }
    }
  }

  /** Parses an http(s) URL; credentials, queries and fragments are refused (and never echoed). */
  private parseUrl(name: string, raw: string): URL | undefined {
    if (!URL.canParse(raw)) {
      this.problem(`${name} must be an absolute http(s) URL like https://host.example.com`);
      return undefined;
    }
    const parsed = new URL(raw);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      this.problem(`${name} must use http or https, got "${parsed.protocol}"`);
    }
    if (parsed.username !== "" || parsed.password !== "") {
      this.problem(`${name} must not carry a user name or password`);
    }
    if (parsed.search !== "" || parsed.hash !== "") {
      this.problem(`${name} must not carry a query or fragment`);
    }
    return parsed;
  }
}
