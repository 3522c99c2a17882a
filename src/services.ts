/**
 * The service's parts, built once from the configuration and handed to the HTTP routes, the CLI
 * and housekeeping. Swapping a store (PostgreSQL, S3) happens here and nowhere else.
 */
import type { Config } from "./config.js";
import { migrate, openSqlite, type Db } from "./db/database.js";
import { Uploads } from "./cache/uploads.js";
import { UrlSigner } from "./dataplane/signed-url.js";
import { RunnerAuthenticator } from "./identity/credential.js";
import { GitHubTokenDecisions } from "./identity/github-token-decision.js";
import { GitHubTokenVerifier } from "./identity/github-token.js";
import { RunnerRegistry } from "./identity/runners.js";
import type { Logger } from "./log.js";
import { CacheGate } from "./protocol/caller.js";
import type { ScopeResolver } from "./scope/decision.js";
import { JobStore } from "./scope/job-store.js";
import { JobScopeResolver } from "./scope/resolver.js";
import { OctokitGitHubClient, type GitHubClient } from "./github/client.js";
import { DefaultBranches } from "./scope/default-branch.js";
import { ApiFallback } from "./scope/fallback.js";
import { BranchProtection } from "./scope/protection.js";
import { RunFactsSource } from "./scope/run-facts.js";
import { RunStore } from "./scope/run-store.js";
import { loadSecrets, type Secrets } from "./secrets.js";
import type { BlobStore } from "./stores/blob-store.js";
import { LocalBlobStore } from "./stores/local-blob-store.js";

export interface Services {
  config: Config;
  log: Logger;
  secrets: Secrets;
  db: Db;
  blobs: BlobStore;
  runners: RunnerRegistry;
  authenticator: RunnerAuthenticator;
  jobs: JobStore;
  /** Run facts and pushes, recorded from webhooks and GitHub's answers. */
  runs: RunStore;
  /** The operator's branch-protection switch. */
  protection: BranchProtection;
  /** The GitHub App client; undefined when no App is configured (webhooks only). */
  github: GitHubClient | undefined;
  resolver: ScopeResolver;
  gate: CacheGate;
  uploads: Uploads;
  signer: UrlSigner;
  close(): Promise<void>;
}

export async function createServices(config: Config, log: Logger): Promise<Services> {
  const db = openSqlite(config.dataDir);
  await migrate(db);
  const secrets = loadSecrets(config);
  const blobs = new LocalBlobStore(config.dataDir);
  const runners = new RunnerRegistry(db);
  const jobs = new JobStore(db);
  const runs = new RunStore(db);
  const protection = new BranchProtection(db);
  const github =
    config.github && new OctokitGitHubClient(config.github, log, config.resolveBudgetMs);
  const resolver = new JobScopeResolver({
    jobs,
    branches: new DefaultBranches(jobs, github, log, config.negativeCacheMs),
    fallback:
      github &&
      new ApiFallback(github, jobs, log, {
        budgetMs: config.resolveBudgetMs,
        negativeCacheMs: config.negativeCacheMs,
      }),
    runFacts: new RunFactsSource(runs, github, log, config.negativeCacheMs),
    runs,
    protection,
    log,
    budgetMs: config.resolveBudgetMs,
  });
  const githubTokens = config.githubToken && new GitHubTokenVerifier(config.githubToken);
  const authenticator = new RunnerAuthenticator(secrets.tokenSecret, runners, githubTokens);
  return {
    config,
    log,
    secrets,
    db,
    blobs,
    runners,
    authenticator,
    jobs,
    runs,
    protection,
    github,
    resolver,
    gate: new CacheGate(authenticator, resolver, log, new GitHubTokenDecisions(db, log)),
    uploads: new Uploads(db, blobs, config.maxEntryBytes),
    signer: new UrlSigner(secrets.urlSigningSecret, config.publicUrl, config.signedUrlTtlSeconds),
    async close() {
      await db.destroy();
    },
  };
}
