/**
 * The GitHub App installation client the resolver asks when no webhook has told it a runner's
 * job: list a run's jobs (every page, latest attempt) and read a repository's default branch.
 *
 * Requests go to the configured API URL (GitHub, GHES, or a test's fake), pin the REST API
 * version and time out on their own. The only retry is after a rate limit whose stated end falls
 * inside the caller's budget (deadline.ts): one wait, one more try. Otherwise GitHub's limits are
 * obeyed by not calling at all until its stated time, and the caller fails closed at once.
 */
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import type { GitHubAppConfig } from "../config.js";
import type { Logger } from "../log.js";
import { deadlineOf } from "./deadline.js";
import { GitHubApiError, toGitHubError } from "./errors.js";
import { RateLimitGate } from "./rate-limit.js";
import {
  parsePullRequestList,
  parseRepository,
  parseRunSummary,
  parseWorkflowJob,
  parseWorkflowRun,
  type PullRequestSummary,
  type RepositoryFacts,
  type RunSummary,
  type WorkflowJob,
  type WorkflowRun,
} from "./shapes.js";
import { InstallationTokens } from "./tokens.js";

export type { PullRequestSummary, RepositoryFacts, RunSummary, WorkflowJob, WorkflowRun };

/** The REST API version this client is written against (docs.github.com, API versions). */
export const GITHUB_API_VERSION = "2022-11-28";
/** GitHub's largest page for job lists; fewer pages means fewer calls against the rate limit. */
export const JOBS_PER_PAGE = 100;
/** GitHub's largest page for run lists. */
export const RUNS_PER_PAGE = 100;
/** A rate-limited request is tried once more at most, and only if the wait fits the budget. */
export const MAX_RATE_LIMIT_RETRIES = 1;
/** No single request may take longer than this, whatever budget the caller has left. */
export const MAX_REQUEST_TIMEOUT_MS = 10_000;

const API_HEADERS = {
  accept: "application/vnd.github+json",
  "x-github-api-version": GITHUB_API_VERSION,
};
const HTTP_UNAUTHORIZED = 401;
const HTTP_NOT_FOUND = 404;
/** One page of pull requests for one head: a fork branch rarely has more than a handful. */
export const PULLS_PER_PAGE = 100;

export interface GitHubClient {
  /**
   * The jobs of a run's latest attempt, one page at a time, following GitHub's `link` header.
   * Stop early by leaving the loop. Throws GitHubApiError.
   */
  runJobs(
    installationId: number,
    repository: string,
    runId: number,
    signal: AbortSignal,
  ): AsyncIterable<WorkflowJob[]>;
  /**
   * The repository's in-progress runs, newest first, one page at a time with GitHub's total
   * count of them. Stop early by leaving the loop. Throws GitHubApiError.
   */
  inProgressRuns(
    installationId: number,
    repository: string,
    signal: AbortSignal,
  ): AsyncIterable<RunListPage>;
  /** The repository's name and default branch. Throws GitHubApiError. */
  repository(
    installationId: number,
    repository: string,
    signal: AbortSignal,
  ): Promise<RepositoryFacts>;
  /** One attempt of a workflow run: its event, head and pull requests. Throws GitHubApiError. */
  runAttempt(
    installationId: number,
    repository: string,
    runId: number,
    attempt: number,
    signal: AbortSignal,
  ): Promise<WorkflowRun>;
  /** Pull requests in any state whose head is `owner:branch`; one page. Throws GitHubApiError. */
  pullRequestsByHead(
    installationId: number,
    repository: string,
    head: string,
    signal: AbortSignal,
  ): Promise<PullRequestSummary[]>;
  /** Whether a full ref (refs/heads/X, refs/tags/X) exists; 404 is false, other failures throw. */
  refExists(
    installationId: number,
    repository: string,
    ref: string,
    signal: AbortSignal,
  ): Promise<boolean>;
}

export interface RunListPage {
  runs: RunSummary[];
  /** How many runs match in all, as GitHub counts them; null when it did not say. */
  totalCount: number | null;
}

const PaginatingOctokit = Octokit.plugin(paginateRest);

export class OctokitGitHubClient implements GitHubClient {
  private readonly octokit: InstanceType<typeof PaginatingOctokit>;
  private readonly tokens: InstallationTokens;
  private readonly limits = new RateLimitGate();

  constructor(config: GitHubAppConfig, log: Logger, requestTimeoutMs: number) {
    const timeoutMs = Math.min(requestTimeoutMs, MAX_REQUEST_TIMEOUT_MS);
    this.octokit = new PaginatingOctokit({
      baseUrl: config.apiUrl,
      userAgent: "gha-cache",
      request: { fetch: fetchWithTimeout(timeoutMs) },
      log: quietLog(log),
    });
    this.tokens = new InstallationTokens(
      config.appId,
      config.privateKey,
      this.octokit.request.defaults({ headers: API_HEADERS }),
      { warn: (message) => log.warn({ event: "github_auth" }, message) },
    );
  }

  async *runJobs(
    installationId: number,
    repository: string,
    runId: number,
    signal: AbortSignal,
  ): AsyncIterable<WorkflowJob[]> {
    const [owner, repo] = splitRepository(repository);
    const url = "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs";
    // "latest" is GitHub's default; said anyway because a stale attempt's job must never match.
    const query = { owner, repo, run_id: runId, filter: "latest", per_page: JOBS_PER_PAGE };
    for await (const data of this.pages(installationId, signal, url, query)) {
      if (!Array.isArray(data)) {
        throw new GitHubApiError("bad_response", "jobs answer has no jobs list");
      }
      yield data.map(parseWorkflowJob);
    }
  }

  async *inProgressRuns(
    installationId: number,
    repository: string,
    signal: AbortSignal,
  ): AsyncIterable<RunListPage> {
    const [owner, repo] = splitRepository(repository);
    const url = "/repos/{owner}/{repo}/actions/runs";
    const query = { owner, repo, status: "in_progress", per_page: RUNS_PER_PAGE };
    for await (const data of this.pages(installationId, signal, url, query)) {
      if (!Array.isArray(data)) {
        throw new GitHubApiError("bad_response", "runs answer has no runs list");
      }
      // The paginator moves GitHub's total_count onto the list it returns.
      const total: unknown = (data as { total_count?: unknown }).total_count;
      const totalCount = typeof total === "number" ? total : null;
      yield { runs: data.map(parseRunSummary), totalCount };
    }
  }

  /** The data of each page of a list, following GitHub's `link` header. */
  private async *pages(
    installationId: number,
    signal: AbortSignal,
    url: string,
    query: Record<string, string | number>,
  ): AsyncIterable<unknown> {
    const request = await this.authorized(installationId, signal);
    // The function form (so every page carries the signal) is typed for a route string only;
    // at run time it takes endpoint options, as below.
    const route = { method: "GET", url, ...query };
    const pages = this.octokit.paginate.iterator(request, route as never);
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      // A failed page leaves the iterator on the same URL, so a retry asks for that page again.
      const page = await this.guarded(installationId, signal, () => iterator.next());
      if (page.done) return;
      yield page.value.data as unknown;
    }
  }

  async repository(
    installationId: number,
    repository: string,
    signal: AbortSignal,
  ): Promise<RepositoryFacts> {
    const [owner, repo] = splitRepository(repository);
    const request = await this.authorized(installationId, signal);
    const get = () => request("GET /repos/{owner}/{repo}", { owner, repo });
    const response = await this.guarded(installationId, signal, get);
    return parseRepository(response.data);
  }

  async runAttempt(
    installationId: number,
    repository: string,
    runId: number,
    attempt: number,
    signal: AbortSignal,
  ): Promise<WorkflowRun> {
    const [owner, repo] = splitRepository(repository);
    const request = await this.authorized(installationId, signal);
    const route = "GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}";
    const get = () => request(route, { owner, repo, run_id: runId, attempt_number: attempt });
    const response = await this.guarded(installationId, signal, get);
    return parseWorkflowRun(response.data);
  }

  async pullRequestsByHead(
    installationId: number,
    repository: string,
    head: string,
    signal: AbortSignal,
  ): Promise<PullRequestSummary[]> {
    const [owner, repo] = splitRepository(repository);
    const request = await this.authorized(installationId, signal);
    // Missing: later pages; a head branch with more pull requests than one page is not searched further.
    const query = { owner, repo, head, state: "all" as const, per_page: PULLS_PER_PAGE };
    const list = () => request("GET /repos/{owner}/{repo}/pulls", query);
    const response = await this.guarded(installationId, signal, list);
    return parsePullRequestList(response.data);
  }

  async refExists(
    installationId: number,
    repository: string,
    ref: string,
    signal: AbortSignal,
  ): Promise<boolean> {
    const [owner, repo] = splitRepository(repository);
    const short = ref.replace(/^refs\//, "");
    const request = await this.authorized(installationId, signal);
    try {
      // `{+ref}` keeps the slashes of heads/feature/x; the plain form would send them as %2F.
      const url = "/repos/{owner}/{repo}/git/ref/{+ref}";
      const get = () => request({ method: "GET", url, owner, repo, ref: short } as never);
      await this.guarded(installationId, signal, get);
      return true;
    } catch (error) {
      const absent = error instanceof GitHubApiError && error.status === HTTP_NOT_FOUND;
      if (absent && error.kind === "http") return false;
      throw error;
    }
  }

  /** A request function carrying the installation's token, the API version and the caller's signal. */
  private async authorized(installationId: number, signal: AbortSignal) {
    const token = await this.guarded(installationId, signal, () =>
      this.tokens.token(installationId),
    );
    return this.octokit.request.defaults({
      headers: { ...API_HEADERS, authorization: `token ${token}` },
      request: { signal },
    });
  }

  /**
   * Runs one GitHub call in the installation's turn (rate-limit.ts), and sorts its failures. A
   * rate-limited answer blocks the installation for every caller; this caller waits it out and
   * tries again only when GitHub stated the time and it falls inside the caller's budget.
   */
  private async guarded<T>(
    installationId: number,
    signal: AbortSignal,
    call: () => Promise<T>,
  ): Promise<T> {
    const deadlineMs = deadlineOf(signal);
    for (let retries = 0; ; retries += 1) {
      let answered: (ok: boolean) => void;
      try {
        answered = await this.limits.turn(installationId, deadlineMs, signal);
      } catch (error) {
        throw toGitHubError(error, signal, Date.now());
      }
      if (signal.aborted) {
        answered(false);
        throw toGitHubError(signal.reason, signal, Date.now());
      }
      try {
        const result = await call();
        answered(true);
        return result;
      } catch (error) {
        const failure = this.sorted(installationId, error, signal);
        // After the block is set, so the callers waiting for this answer see it.
        answered(false);
        const mayRetry = retries < MAX_RATE_LIMIT_RETRIES;
        if (failure.kind !== "rate_limited" || !mayRetry) throw failure;
        if (!this.limits.canWait(installationId, deadlineMs)) throw failure;
      }
    }
  }

  /** A failure as GitHubApiError; a limit blocks the installation, a 401 drops its token. */
  private sorted(installationId: number, error: unknown, signal: AbortSignal): GitHubApiError {
    const nowMs = Date.now();
    const failure = toGitHubError(error, signal, nowMs);
    if (failure.status === HTTP_UNAUTHORIZED) this.tokens.forget(installationId);
    if (failure.kind !== "rate_limited" || failure.retryAt === undefined) return failure;
    const limit = { untilMs: failure.retryAt, stated: failure.retryAtStated };
    const untilMs = this.limits.block(installationId, limit, nowMs);
    const { message, status, retryAtStated } = failure;
    return new GitHubApiError("rate_limited", message, status, untilMs, retryAtStated);
  }
}

function splitRepository(repository: string): [string, string] {
  const [owner, repo] = repository.split("/");
  if (!owner || !repo)
    throw new GitHubApiError("bad_response", `"${repository}" is not owner/name`);
  return [owner, repo];
}

/** fetch, aborted after `timeoutMs` or when the caller's own signal fires, whichever comes first. */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };
}

/** Octokit's own chatter (deprecation notices) goes to the service log at debug level. */
function quietLog(log: Logger) {
  const write = (message: string) => log.debug({ event: "octokit" }, message);
  return { debug: write, info: write, warn: write, error: write };
}
