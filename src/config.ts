/**
 * Service configuration, read once from environment variables and validated at start.
 *
 * Every variable is documented in the README. A bad value stops the process with a message
 * that names the variable and says what is wrong; nothing falls back silently.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export interface GitHubAppConfig {
  appId: string;
  privateKey: string;
  apiUrl: string;
}

export interface Config {
  host: string;
  port: number;
  /** Origin the runners reach this service at; signed URLs and printed runner settings use it. */
  publicUrl: string;
  dataDir: string;
  /** HS256 secret for runner tokens; undefined means "generate once and keep in the data folder". */
  tokenSecret: string | undefined;
  /** HMAC secret for signed upload and download URLs; same default as tokenSecret. */
  urlSigningSecret: string | undefined;
  webhookSecret: string | undefined;
  github: GitHubAppConfig | undefined;
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

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Reads and validates the configuration; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const reader = new EnvReader(env, problems);

  const host = reader.string("GHA_CACHE_HOST", "0.0.0.0");
  const port = reader.integer("GHA_CACHE_PORT", 3000, 0, 65535);
  const publicUrl = reader.url("GHA_CACHE_PUBLIC_URL", `http://127.0.0.1:${port}`);
  const dataDir = path.resolve(reader.string("GHA_CACHE_DATA_DIR", "./data"));
  const tokenSecret = reader.secret("GHA_CACHE_TOKEN_SECRET");
  const urlSigningSecret = reader.secret("GHA_CACHE_URL_SIGNING_SECRET");
  const webhookSecret = reader.optional("GHA_CACHE_WEBHOOK_SECRET");
  const github = readGitHubApp(reader, problems);
  const maxEntryBytes = reader.integer("GHA_CACHE_MAX_ENTRY_BYTES", 10 * GiB, 1, Number.MAX_SAFE_INTEGER);
  const uploadTimeoutSeconds = reader.integer("GHA_CACHE_UPLOAD_TIMEOUT_SECONDS", 3600, 1, 7 * 86400);
  const signedUrlTtlSeconds = reader.integer("GHA_CACHE_SIGNED_URL_TTL_SECONDS", 3600, 1, 7 * 86400);
  const resolveBudgetMs = reader.integer("GHA_CACHE_RESOLVE_BUDGET_MS", 10_000, 100, 120_000);
  const negativeCacheMs = reader.integer("GHA_CACHE_NEGATIVE_CACHE_MS", 5_000, 0, 600_000);
  const housekeepingIntervalSeconds = reader.integer("GHA_CACHE_HOUSEKEEPING_INTERVAL_SECONDS", 60, 1, 86400);
  const logLevel = reader.oneOf("GHA_CACHE_LOG_LEVEL", "info", LOG_LEVELS);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host,
    port,
    publicUrl: publicUrl.replace(/\/+$/, ""),
    dataDir,
    tokenSecret,
    urlSigningSecret,
    webhookSecret,
    github,
    maxEntryBytes,
    uploadTimeoutSeconds,
    signedUrlTtlSeconds,
    resolveBudgetMs,
    negativeCacheMs,
    housekeepingIntervalSeconds,
    logLevel,
  };
}

function readGitHubApp(reader: EnvReader, problems: string[]): GitHubAppConfig | undefined {
  const appId = reader.optional("GHA_CACHE_GITHUB_APP_ID");
  const keyFile = reader.optional("GHA_CACHE_GITHUB_PRIVATE_KEY_FILE");
  const keyInline = reader.optional("GHA_CACHE_GITHUB_PRIVATE_KEY");
  const apiUrl = reader.url("GHA_CACHE_GITHUB_API_URL", "https://api.github.com");
  if (appId === undefined && keyFile === undefined && keyInline === undefined) return undefined;

  if (appId === undefined) {
    problems.push("GHA_CACHE_GITHUB_APP_ID is required when a GitHub App private key is given");
  } else if (!/^(\d+|Iv[0-9A-Za-z._-]+)$/.test(appId)) {
    problems.push("GHA_CACHE_GITHUB_APP_ID must be the App's numeric id or its client id (Iv...)");
  }
  let privateKey: string | undefined = keyInline;
  if (keyFile !== undefined) {
    if (keyInline !== undefined) {
      problems.push("set only one of GHA_CACHE_GITHUB_PRIVATE_KEY and GHA_CACHE_GITHUB_PRIVATE_KEY_FILE");
    }
    try {
      privateKey = readFileSync(keyFile, "utf8");
    } catch (error) {
      problems.push(`GHA_CACHE_GITHUB_PRIVATE_KEY_FILE cannot be read: ${(error as Error).message}`);
    }
  }
  if (privateKey === undefined) {
    problems.push("GHA_CACHE_GITHUB_PRIVATE_KEY_FILE (or GHA_CACHE_GITHUB_PRIVATE_KEY) is required with an App id");
  } else if (!privateKey.includes("PRIVATE KEY-----")) {
    problems.push("the GitHub App private key must be a PEM file (-----BEGIN ... PRIVATE KEY-----)");
  }
  if (problems.length > 0 || appId === undefined || privateKey === undefined) return undefined;
  return { appId, privateKey: privateKey.replace(/\\n/g, "\n"), apiUrl: apiUrl.replace(/\/+$/, "") };
}

class EnvReader {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly problems: string[],
  ) {}

  optional(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  secret(name: string): string | undefined {
    const value = this.optional(name);
    if (value !== undefined && value.length < 32) {
      this.problems.push(`${name} must be at least 32 characters long (use: openssl rand -hex 32)`);
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) {
      this.problems.push(`${name} must be a whole number, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be between ${min} and ${max}, got ${raw}`);
      return fallback;
    }
    return value;
  }

  url(name: string, fallback: string): string {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      this.problems.push(`${name} must be an absolute http(s) URL, got "${raw}"`);
      return fallback;
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      this.problems.push(`${name} must use http or https, got "${parsed.protocol}"`);
    }
    if (parsed.search !== "" || parsed.hash !== "") {
      this.problems.push(`${name} must not carry a query or fragment`);
    }
    return raw;
  }

  oneOf(name: string, fallback: string, allowed: string[]): string {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!allowed.includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
      return fallback;
    }
    return raw;
  }
}
