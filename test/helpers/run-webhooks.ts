/**
 * The `workflow_run` and `push` webhooks that go with a test job, in the shape of GitHub's own
 * examples (@octokit/webhooks-examples). By default a job's run is a push to its head branch
 * from its own repository, listing no pull request, and a push of refs/heads/<branch> to the
 * job's commit is reported: the branch semantics the protocol tests expect.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** A pull request as the run lists it; its base repository is the job's unless said. */
export interface ListedPr {
  number: number;
  baseRef: string;
  baseRepository?: string;
}

export interface RunSpec {
  /** The trigger event; "push" by default. */
  event?: string;
  /** `owner/name` of the head repository: the job's by default, another for a fork. */
  headRepository?: string;
  pullRequests?: ListedPr[];
  /** Which pushes of the head branch's name are reported; the branch by default for push runs. */
  pushes?: ("branch" | "tag")[];
  /** Report no workflow_run: the run's facts must then come from GitHub's API. */
  withoutWorkflowRun?: boolean;
}

/** What a run webhook needs to know about the job it goes with. */
export interface RunOfJob {
  runId: number;
  runAttempt: number;
  repository: string;
  headBranch: string | null;
  headSha: string;
  installationId: number;
  /** queued, waiting, in_progress or completed: the job's action, mapped to the run's. */
  jobAction: string;
}

/** The head commit of a test job unless it names one: the same for every job of a branch. */
export function defaultHeadSha(repository: string, headBranch: string | null): string {
  return createHash("sha1")
    .update(`${repository}@${headBranch ?? ""}`)
    .digest("hex");
}

/** A pull_request run for PR `number` into `baseRef`; a fork's run lists no pull request. */
export function pullRequestRun(number: number, baseRef: string, fork?: string): RunSpec {
  return {
    event: "pull_request",
    headRepository: fork,
    pullRequests: fork ? [] : [{ number, baseRef }],
    pushes: [],
  };
}

/** A push of a tag: the head branch's name is reported pushed as refs/tags/<name>. */
export const TAG_RUN: RunSpec = { event: "push", pushes: ["tag"] };

function example(
  name: string,
  pick: (example: Record<string, any>) => boolean,
): Record<string, any> {
  const all = require("@octokit/webhooks-examples/api.github.com/index.json") as {
    name: string;
    examples: any[];
  }[];
  const found = all.find((set) => set.name === name)?.examples.find(pick);
  if (!found) throw new Error(`no ${name} example in @octokit/webhooks-examples`);
  return structuredClone(found) as Record<string, any>;
}

function repositoryPart(base: Record<string, any>, fullName: string): Record<string, any> {
  const [owner, name] = fullName.split("/");
  return { ...base, name, full_name: fullName, owner: { ...base.owner, login: owner } };
}

export function workflowRunPayload(job: RunOfJob, spec: RunSpec = {}): Record<string, unknown> {
  const payload = example("workflow_run", () => true);
  const headRepository = spec.headRepository ?? job.repository;
  const repository = repositoryPart(payload.repository, job.repository);
  payload.action =
    job.jobAction === "queued" || job.jobAction === "waiting" ? "requested" : job.jobAction;
  payload.repository = repository;
  payload.installation = { id: job.installationId };
  payload.workflow_run = {
    ...payload.workflow_run,
    id: job.runId,
    run_attempt: job.runAttempt,
    event: spec.event ?? "push",
    head_branch: job.headBranch,
    head_sha: job.headSha,
    head_repository: repositoryPart(payload.workflow_run.head_repository, headRepository),
    repository,
    status: payload.action === "requested" ? "queued" : payload.action,
    pull_requests: (spec.pullRequests ?? []).map((pr) => listedPr(pr, job)),
  };
  return payload;
}

/** GitHub's minimal pull request object on a run: the base repository by id, URL and name. */
function listedPr(pr: ListedPr, job: RunOfJob) {
  const base = pr.baseRepository ?? job.repository;
  const repo = (fullName: string) => ({
    id: 1,
    url: `https://api.github.com/repos/${fullName}`,
    name: fullName.split("/")[1],
  });
  return {
    id: pr.number * 10,
    number: pr.number,
    url: `https://api.github.com/repos/${base}/pulls/${pr.number}`,
    head: { ref: job.headBranch, sha: job.headSha, repo: repo(job.repository) },
    base: { ref: pr.baseRef, sha: "f".repeat(40), repo: repo(base) },
  };
}

export function pushPayload(job: RunOfJob, ref: string): Record<string, unknown> {
  const payload = example(
    "push",
    (e) => typeof e.ref === "string" && e.ref.startsWith("refs/heads/"),
  );
  payload.ref = ref;
  payload.after = job.headSha;
  payload.deleted = false;
  payload.repository = repositoryPart(payload.repository, job.repository);
  payload.installation = { id: job.installationId };
  return payload;
}

/** The full refs reported pushed for this run. */
export function pushedRefs(job: RunOfJob, spec: RunSpec = {}): string[] {
  if (job.headBranch === null) return [];
  const pushes = spec.pushes ?? ((spec.event ?? "push") === "push" ? ["branch"] : []);
  return pushes.map((kind) => `refs/${kind === "branch" ? "heads" : "tags"}/${job.headBranch}`);
}
