/**
 * A small fake of GitHub's REST API on 127.0.0.1, for the GitHub App client and the resolver's
 * API fallback. It checks the App's JWT the way GitHub does (RS256, known issuer, sane iat and
 * exp), pages job lists and in-progress run lists with a real `link` header, answers run
 * attempts, pull requests by head and git refs (fake-github-runs.ts), can be told to fail (500, 403/429 with rate-limit headers,
 * slow answers), and logs every call for tests to assert on.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify } from "jose";

import {
  FAKE_HEAD_SHA,
  pullBody,
  refBody,
  runAttemptBody,
  runListBody,
  runStatus,
  type FakePull,
  type FakeRunFacts,
} from "./fake-github-runs.js";

export type { FakePull, FakeRunFacts };
export type FakeRoute =
  | "access_tokens"
  | "repository"
  | "jobs"
  | "runs"
  | "run_attempt"
  | "pulls"
  | "git_ref"
  | "unknown";

/** GitHub caps an App JWT at ten minutes; a little clock skew is allowed either way. */
const MAX_JWT_LIFETIME_SECONDS = 10 * 60;
const CLOCK_SKEW_SECONDS = 60;
/** Installation tokens live one hour on GitHub. */
const TOKEN_LIFETIME_MS = 60 * 60 * 1000;
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;

export interface FakeJob {
  id: number;
  run_id: number;
  run_attempt: number;
  status: "queued" | "in_progress" | "completed" | "waiting";
  runner_name: string | null;
  head_branch: string | null;
  head_sha?: string;
  workflow_name?: string;
}

export interface Fault {
  status?: number;
  headers?: Record<string, string>;
  /** GitHub's error message; a rate-limit or server-error text by default. */
  message?: string;
  /** Hold the answer this long before giving it (or the fault's status). */
  delayMs?: number;
  /** How many calls the fault applies to; every call when absent. */
  times?: number;
}

export interface FakeCall {
  route: FakeRoute;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  apiVersion: string | undefined;
  authorization: "jwt" | "token" | "none" | "other";
  /** When the call arrived (epoch ms), to check that nobody called during a rate limit. */
  at: number;
}

interface Run {
  repository: string;
  jobs: FakeJob[];
  facts: FakeRunFacts;
}

export class FakeGitHub {
  readonly appId = "424242";
  readonly privateKeyPem: string;
  readonly calls: FakeCall[] = [];
  /** Tokens handed out, so tests can check none of them reaches a log. */
  readonly issuedTokens: string[] = [];
  readonly repositories = new Map<string, { defaultBranch: string }>();
  readonly runs = new Map<number, Run>();
  /** Existing refs per repository (refs/heads/B, refs/tags/T). */
  readonly refs = new Map<string, Set<string>>();
  readonly pulls = new Map<string, FakePull[]>();
  /** Lifetime of the installation tokens this fake hands out. */
  tokenLifetimeMs = TOKEN_LIFETIME_MS;
  private readonly faults = new Map<FakeRoute, Fault>();
  private readonly publicKey: KeyObject;
  private server!: Server;
  url = "";

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    this.publicKey = publicKey;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addRepository(fullName: string, defaultBranch = "main"): void {
    this.repositories.set(fullName, { defaultBranch });
  }

  /**
   * A run and its jobs. Its facts default to a push to the jobs' branch from the repository
   * itself, and that branch is made to exist; `facts` says otherwise.
   */
  addRun(
    repository: string,
    runId: number,
    jobs: FakeJob[],
    facts: Partial<FakeRunFacts> = {},
  ): void {
    if (!this.repositories.has(repository)) this.addRepository(repository);
    const first = jobs[0];
    const full: FakeRunFacts = {
      event: "push",
      headBranch: first?.head_branch ?? null,
      headSha: first?.head_sha ?? FAKE_HEAD_SHA,
      headRepository: repository,
      pullRequests: [],
      ...facts,
    };
    this.runs.set(runId, { repository, jobs, facts: full });
    if (facts.event === undefined && full.headBranch !== null) {
      this.addRef(repository, `refs/heads/${full.headBranch}`);
    }
  }

  addRef(repository: string, ref: string): void {
    const refs = this.refs.get(repository) ?? new Set<string>();
    refs.add(ref);
    this.refs.set(repository, refs);
  }

  addPull(repository: string, pull: FakePull): void {
    this.pulls.set(repository, [...(this.pulls.get(repository) ?? []), pull]);
  }

  /** Makes calls to `route` fail (or stall) until cleared or `times` runs out. */
  fail(route: FakeRoute, fault: Fault): void {
    this.faults.set(route, { ...fault });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  count(route: FakeRoute): number {
    return this.calls.filter((call) => call.route === route).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const route = routeOf(req.method ?? "GET", url.pathname);
    const call: FakeCall = {
      route,
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      apiVersion: header(req, "x-github-api-version"),
      authorization: authorizationKind(header(req, "authorization")),
      at: Date.now(),
    };
    this.calls.push(call);
    for await (const _chunk of req) void _chunk;

    const fault = this.takeFault(route);
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (res.destroyed) return;
    const answer = fault?.status
      ? {
          status: fault.status,
          body: { message: fault.message ?? faultMessage(fault.status) },
          headers: fault.headers ?? {},
        }
      : await this.answer(route, req, url);
    call.status = answer.status;
    res.writeHead(answer.status, {
      "content-type": "application/json; charset=utf-8",
      ...answer.headers,
    });
    res.end(JSON.stringify(answer.body));
  }

  private takeFault(route: FakeRoute): Fault | undefined {
    const fault = this.faults.get(route);
    if (fault === undefined) return undefined;
    if (fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) this.faults.delete(route);
    }
    return fault;
  }

  private async answer(route: FakeRoute, req: IncomingMessage, url: URL): Promise<Answer> {
    if (route === "access_tokens") return this.accessToken(header(req, "authorization"));
    if (!this.tokenValid(header(req, "authorization"))) return error(401, "Bad credentials");
    const parts = url.pathname.split("/");
    const repository = `${parts[2]}/${parts[3]}`;
    if (route === "repository") {
      const known = this.repositories.get(repository);
      if (!known) return error(404, "Not Found");
      const [owner, name] = repository.split("/");
      return ok({
        id: 1,
        name,
        full_name: repository,
        owner: { login: owner },
        default_branch: known.defaultBranch,
      });
    }
    if (route === "jobs") return this.jobs(repository, Number(parts[6]), url);
    if (route === "runs") return this.runList(repository, url);
    if (route === "run_attempt") {
      return this.runAttempt(repository, Number(parts[6]), Number(parts[8]));
    }
    if (route === "pulls") {
      const head = url.searchParams.get("head");
      const pulls = this.pulls.get(repository) ?? [];
      const found = pulls.filter((pull) => head === null || pull.head === head);
      return ok(found.map(pullBody));
    }
    if (route === "git_ref") {
      const ref = `refs/${decodeURIComponent(parts.slice(6).join("/"))}`;
      const known = this.refs.get(repository)?.has(ref);
      return known ? ok(refBody(repository, ref, FAKE_HEAD_SHA)) : error(404, "Not Found");
    }
    return error(404, "Not Found");
  }

  private async accessToken(authorization: string | undefined): Promise<Answer> {
    const jwt = /^bearer (.+)$/i.exec(authorization ?? "")?.[1];
    if (!jwt) return error(401, "A JSON web token could not be decoded");
    try {
      const { payload } = await jwtVerify(jwt, this.publicKey, {
        algorithms: ["RS256"],
        issuer: this.appId,
      });
      const now = Math.floor(Date.now() / 1000);
      if (typeof payload.iat !== "number" || payload.iat > now + CLOCK_SKEW_SECONDS) {
        return error(
          401,
          "'Issued at' claim ('iat') must be an Integer representing a time in the past",
        );
      }
      if (
        typeof payload.exp !== "number" ||
        payload.exp - now > MAX_JWT_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS
      ) {
        return error(401, "'Expiration time' claim ('exp') is too far in the future");
      }
    } catch (failure) {
      return error(401, `JWT refused: ${(failure as Error).message}`);
    }
    const token = `ghs_${randomBytes(18).toString("hex")}`;
    this.issuedTokens.push(token);
    const expiresAt = new Date(Date.now() + this.tokenLifetimeMs).toISOString();
    const permissions = { actions: "read", metadata: "read" };
    return {
      status: 201,
      headers: {},
      body: { token, expires_at: expiresAt, permissions, repository_selection: "all" },
    };
  }

  private tokenValid(authorization: string | undefined): boolean {
    const token = /^token (.+)$/i.exec(authorization ?? "")?.[1];
    return token !== undefined && this.issuedTokens.includes(token);
  }

  /** "Get a workflow run attempt": any attempt up to the latest its jobs reach. */
  private runAttempt(repository: string, runId: number, attempt: number): Answer {
    const run = this.runs.get(runId);
    if (!run || run.repository !== repository) return error(404, "Not Found");
    const latest = Math.max(...run.jobs.map((job) => job.run_attempt), 1);
    if (attempt < 1 || attempt > latest) return error(404, "Not Found");
    return ok(runAttemptBody(repository, runId, attempt, run.facts));
  }

  /** "List workflow runs for a repository", newest first, by status when asked, paged. */
  private runList(repository: string, url: URL): Answer {
    const status = url.searchParams.get("status");
    const runs = [...this.runs.entries()]
      .filter(
        ([, run]) =>
          run.repository === repository && (status === null || runStatus(run.jobs) === status),
      )
      .sort(([a], [b]) => b - a);
    const { slice, headers } = paged(url, runs);
    const body = slice.map(([id, run]) => runListBody(repository, id, run.jobs));
    return { status: 200, headers, body: { total_count: runs.length, workflow_runs: body } };
  }

  /** "List jobs for a workflow run": latest attempt unless filter=all, paged with a link header. */
  private jobs(repository: string, runId: number, url: URL): Answer {
    const run = this.runs.get(runId);
    if (!run || run.repository !== repository) return error(404, "Not Found");
    const latest = Math.max(...run.jobs.map((job) => job.run_attempt), 1);
    const jobs =
      url.searchParams.get("filter") === "all"
        ? run.jobs
        : run.jobs.filter((job) => job.run_attempt === latest);
    const { slice, headers } = paged(url, jobs);
    return {
      status: 200,
      headers,
      body: { total_count: jobs.length, jobs: slice.map((job) => jobBody(repository, job)) },
    };
  }
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  return new FakeGitHub().start();
}

/** The runner's own job in a run made by runOfJobs. */
export interface MyJob {
  index: number;
  runnerName: string;
  status?: FakeJob["status"];
  headBranch?: string;
  runAttempt?: number;
}

/**
 * `count` jobs of one run attempt on other runners, with the runner's own job at `index`
 * (0-based) when `mine` is given.
 */
export function runOfJobs(runId: number, count: number, mine?: MyJob): FakeJob[] {
  const attempt = mine?.runAttempt ?? 1;
  return Array.from({ length: count }, (_unused, index): FakeJob => {
    const isMine = mine !== undefined && index === mine.index;
    return {
      id: runId * 1000 + attempt * 500 + index,
      run_id: runId,
      run_attempt: attempt,
      status: isMine ? (mine.status ?? "in_progress") : "in_progress",
      runner_name: isMine ? mine.runnerName : `other-runner-${index}`,
      head_branch: isMine ? (mine.headBranch ?? "feature") : "feature",
    };
  });
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function routeOf(method: string, pathname: string): FakeRoute {
  if (method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(pathname))
    return "access_tokens";
  if (method === "GET" && /^\/repos\/[^/]+\/[^/]+$/.test(pathname)) return "repository";
  if (method === "GET" && /^\/repos\/[^/]+\/[^/]+\/actions\/runs\/\d+\/jobs$/.test(pathname))
    return "jobs";
  if (method === "GET" && /^\/repos\/[^/]+\/[^/]+\/actions\/runs$/.test(pathname)) return "runs";
  const attempt = /^\/repos\/[^/]+\/[^/]+\/actions\/runs\/\d+\/attempts\/\d+$/;
  if (method === "GET" && attempt.test(pathname)) return "run_attempt";
  if (method === "GET" && /^\/repos\/[^/]+\/[^/]+\/pulls$/.test(pathname)) return "pulls";
  const gitRef = /^\/repos\/[^/]+\/[^/]+\/git\/ref\/(heads|tags)\/.+$/;
  if (method === "GET" && gitRef.test(pathname)) return "git_ref";
  return "unknown";
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function authorizationKind(value: string | undefined): FakeCall["authorization"] {
  if (value === undefined) return "none";
  if (/^bearer /i.test(value)) return "jwt";
  if (/^token /i.test(value)) return "token";
  return "other";
}

/** The page of `items` the query asks for, with GitHub's `link` header when there are more. */
function paged<T>(url: URL, items: T[]): { slice: T[]; headers: Record<string, string> } {
  const perPage = Math.min(
    Number(url.searchParams.get("per_page") ?? DEFAULT_PER_PAGE),
    MAX_PER_PAGE,
  );
  const page = Number(url.searchParams.get("page") ?? 1);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const headers: Record<string, string> = {};
  if (lastPage > 1) headers.link = linkHeader(url, page, lastPage);
  return { slice: items.slice((page - 1) * perPage, page * perPage), headers };
}

function linkHeader(url: URL, page: number, lastPage: number): string {
  const at = (target: number) => {
    const next = new URL(url);
    next.searchParams.set("page", String(target));
    return next.toString();
  };
  const links: string[] = [];
  if (page < lastPage) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(lastPage)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`, `<${at(page - 1)}>; rel="prev"`);
  return links.join(", ");
}

function jobBody(repository: string, job: FakeJob) {
  const started = new Date().toISOString();
  return {
    id: job.id,
    run_id: job.run_id,
    run_attempt: job.run_attempt,
    run_url: `https://api.github.com/repos/${repository}/actions/runs/${job.run_id}`,
    node_id: `CR_${job.id}`,
    head_branch: job.head_branch,
    head_sha: job.head_sha ?? FAKE_HEAD_SHA,
    status: job.status,
    conclusion: job.status === "completed" ? "success" : null,
    created_at: started,
    started_at: started,
    completed_at: job.status === "completed" ? started : null,
    name: `job ${job.id}`,
    steps: [],
    labels: ["self-hosted"],
    runner_id: job.runner_name === null ? null : 1,
    runner_name: job.runner_name,
    runner_group_id: job.runner_name === null ? null : 1,
    runner_group_name: job.runner_name === null ? null : "Default",
    workflow_name: job.workflow_name ?? "CI",
  };
}

function ok(body: unknown): Answer {
  return { status: 200, headers: {}, body };
}

function error(status: number, message: string): Answer {
  return {
    status,
    headers: {},
    body: { message, documentation_url: "https://docs.github.com/rest" },
  };
}

function faultMessage(status: number): string {
  if (status === 429 || status === 403) return "API rate limit exceeded for installation.";
  return "Server Error";
}
