/**
 * Installation access tokens for the GitHub App: minted with the App's JWT and reused until
 * shortly before GitHub's expiry (tokens live one hour), one mint at a time per installation.
 *
 * The tokens are kept here rather than behind auth-app's request hook because that hook
 * retries 401 answers for several seconds on its own, and this service must not retry blindly
 * inside a cache call's time budget.
 */
import { createAppAuth } from "@octokit/auth-app";
import type { Octokit } from "@octokit/core";

type RequestInterface = Octokit["request"];

/** A token is renewed this long before it expires, so it never dies in the middle of a walk. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

export interface TokenLog {
  warn(message: string): void;
}

export class InstallationTokens {
  private readonly cached = new Map<number, CachedToken>();
  private readonly minting = new Map<number, Promise<string>>();
  private readonly auth: ReturnType<typeof createAppAuth>;

  constructor(appId: string, privateKey: string, request: RequestInterface, log: TokenLog) {
    this.auth = createAppAuth({
      appId,
      privateKey,
      request,
      log: { warn: (message: string) => log.warn(message) },
    });
  }

  /** A valid token for the installation, minting one only when none is cached or it is near expiry. */
  async token(installationId: number, nowMs: number = Date.now()): Promise<string> {
    const hit = this.cached.get(installationId);
    if (hit && hit.expiresAtMs - TOKEN_REFRESH_MARGIN_MS > nowMs) return hit.token;
    const pending = this.minting.get(installationId);
    if (pending) return pending;
    const mint = this.mint(installationId).finally(() => this.minting.delete(installationId));
    this.minting.set(installationId, mint);
    return mint;
  }

  /** Drops a token GitHub refused (401), so the next resolution mints a fresh one. */
  forget(installationId: number): void {
    this.cached.delete(installationId);
  }

  private async mint(installationId: number): Promise<string> {
    // refresh: our cache decides when to renew; auth-app's own cache would hand back the old one.
    const minted = await this.auth({ type: "installation", installationId, refresh: true });
    const expiresAtMs = Date.parse(minted.expiresAt);
    this.cached.set(installationId, {
      token: minted.token,
      expiresAtMs: Number.isNaN(expiresAtMs) ? 0 : expiresAtMs,
    });
    return minted.token;
  }
}
