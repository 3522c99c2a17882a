/**
 * Run-id hints: where a runner says which run it is working on. A hint only tells the fallback
 * which run to ask GitHub about; it never grants anything by itself.
 *
 * Two sources, in order: the cache call's own `x-github-run-id` header or `run_id` query (it
 * comes with this very call), then the runner's last job-start report.
 */
import type { Runner } from "../identity/runners.js";
import type { ScopeRequest } from "./decision.js";
import type { JobRecord } from "./job-store.js";

export interface RunHintChoice {
  source: "request" | "report";
  repository: string;
  runId: number;
  runAttempt: number | null;
  /** When the runner reported it (epoch ms); null for a hint carried by the call itself. */
  reportedAt: number | null;
}

export type HintPick = { hint: RunHintChoice } | { hint: null; reason: string; ignored: boolean };

export function pickHint(request: ScopeRequest): HintPick {
  const { runner, runIdHint } = request;
  const report = usableReport(runner);
  if (runIdHint !== undefined) {
    // The call names only a run; the repository is the runner's own, or, for an organisation
    // runner, the one its job-start report named.
    const repository = runner.repository ?? report?.repository;
    if (repository === undefined) {
      const reason =
        "run id hint without a repository: an organisation runner must send a job-start report";
      return { hint: null, ignored: true, reason };
    }
    const sameRun =
      report !== undefined && report.runId === runIdHint && report.repository === repository;
    return {
      hint: {
        source: "request",
        repository,
        runId: runIdHint,
        runAttempt: sameRun ? report.runAttempt : null,
        reportedAt: sameRun ? report.at : null,
      },
    };
  }
  if (runner.hint !== null && report === undefined) {
    return {
      hint: null,
      ignored: true,
      reason: `job-start report names repository ${runner.hint.repository}, not the runner's ${runner.repository ?? ""}`,
    };
  }
  if (report === undefined) {
    const reason =
      "no run id hint: no job-start report and no x-github-run-id header or run_id query";
    return { hint: null, ignored: false, reason };
  }
  return { hint: { source: "report", ...report, reportedAt: report.at } };
}

/** The runner's job-start report, unless it names another repository than a repository runner's. */
function usableReport(runner: Runner) {
  const report = runner.hint;
  if (report === null) return undefined;
  if (runner.repository !== null && report.repository !== runner.repository) return undefined;
  return report;
}

/**
 * Whether the hint points past the recorded job, so the runner may be on a new job: a later run
 * (run ids only grow), a later attempt of the same run, or a report made after the job completed
 * (a non-ephemeral runner taking a second job of the same run). Anything else is the old job.
 */
export function hintIsNewer(hint: RunHintChoice, job: JobRecord): boolean {
  const jobRun = Number(job.run_id);
  if (hint.runId !== jobRun) return hint.runId > jobRun;
  if (hint.runAttempt !== null && hint.runAttempt !== Number(job.run_attempt)) {
    return hint.runAttempt > Number(job.run_attempt);
  }
  if (job.status !== "completed" || hint.reportedAt === null) return false;
  // GitHub's clock against ours: a skew only costs one extra question to GitHub, which decides.
  const endedAt = Number(job.completed_at ?? job.updated_at);
  return hint.reportedAt > endedAt;
}
