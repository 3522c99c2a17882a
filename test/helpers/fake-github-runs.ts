/**
 * The fake GitHub's run facts: "get a workflow run attempt", "list workflow runs", "list pull
 * requests" by head, and "get a reference", answered from what a test declared (by default a run is a push to its jobs'
 * branch from its own repository, and that branch exists).
 */
export interface FakePull {
  number: number;
  /** `owner:branch`, as the `head` filter names it. */
  head: string;
  headSha: string;
  baseRef: string;
  baseRepository: string;
}

export interface FakeRunFacts {
  event: string;
  headBranch: string | null;
  headSha: string;
  headRepository: string;
  pullRequests: { number: number; baseRef: string; baseRepository: string }[];
}

/** What the fake's job bodies say when a job names no commit. */
export const FAKE_HEAD_SHA = "0123456789abcdef0123456789abcdef01234567";

export function runAttemptBody(
  repository: string,
  runId: number,
  attempt: number,
  facts: FakeRunFacts,
) {
  const repo = (fullName: string) => {
    const [login, name] = fullName.split("/");
    return {
      id: 1,
      name,
      full_name: fullName,
      owner: { login },
      url: `https://api.github.com/repos/${fullName}`,
    };
  };
  return {
    id: runId,
    run_attempt: attempt,
    name: "CI",
    event: facts.event,
    status: "in_progress",
    head_branch: facts.headBranch,
    head_sha: facts.headSha,
    head_repository: repo(facts.headRepository),
    repository: repo(repository),
    pull_requests: facts.pullRequests.map((pr) => ({
      id: pr.number * 10,
      number: pr.number,
      head: {
        ref: facts.headBranch,
        sha: facts.headSha,
        repo: { id: 2, url: repo(facts.headRepository).url },
      },
      base: {
        ref: pr.baseRef,
        sha: "f".repeat(40),
        repo: { id: 1, url: repo(pr.baseRepository).url },
      },
    })),
  };
}

export function pullBody(pull: FakePull) {
  const [headOwner] = pull.head.split(":");
  const [baseOwner] = pull.baseRepository.split("/");
  return {
    number: pull.number,
    state: "open",
    head: {
      label: pull.head,
      ref: pull.head.slice(pull.head.indexOf(":") + 1),
      sha: pull.headSha,
      user: { login: headOwner },
    },
    base: {
      label: `${baseOwner}:${pull.baseRef}`,
      ref: pull.baseRef,
      repo: { full_name: pull.baseRepository },
    },
  };
}

export function refBody(repository: string, ref: string, sha: string) {
  return {
    ref,
    url: `https://api.github.com/repos/${repository}/git/${ref}`,
    object: { type: "commit", sha },
  };
}

/** A run's status as GitHub derives it from its latest attempt's jobs. */
export function runStatus(jobs: { run_attempt: number; status: string }[]): string {
  const latest = Math.max(...jobs.map((job) => job.run_attempt), 1);
  const current = jobs.filter((job) => job.run_attempt === latest);
  if (current.some((job) => job.status === "in_progress")) return "in_progress";
  if (current.length > 0 && current.every((job) => job.status === "completed")) return "completed";
  return "queued";
}

/** A run as "list workflow runs for a repository" shows it. */
export function runListBody(
  repository: string,
  runId: number,
  jobs: { run_attempt: number; status: string }[],
) {
  return {
    id: runId,
    run_attempt: Math.max(...jobs.map((job) => job.run_attempt), 1),
    name: "CI",
    status: runStatus(jobs),
    url: `https://api.github.com/repos/${repository}/actions/runs/${runId}`,
  };
}
