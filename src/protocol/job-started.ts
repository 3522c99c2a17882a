/**
 * POST /runner/job-started: the job-start report a runner's job-started hook sends
 * (ACTIONS_RUNNER_HOOK_JOB_STARTED, scripts/job-started-hook.sh), with the runner token as
 * bearer or in the path (POST /r/<token>/runner/job-started, mounted in app.ts), and
 * `{repository, run_id, run_attempt}` from GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT.
 *
 * The report is only a hint for the resolver's API fallback: it is stored and answered with 202
 * at once, and GitHub is asked in the background so the job's first cache call finds the answer
 * ready. Nothing is granted until GitHub confirms the run has a job in progress on this runner.
 */
import type { FastifyInstance } from "fastify";
import { badRequest } from "../errors.js";
import { REPOSITORY_NAME, type Runner } from "../identity/runners.js";
import type { Services } from "../services.js";

export const JOB_STARTED_PATH = "/runner/job-started";

interface JobStartReport {
  repository: string;
  runId: number;
  runAttempt: number | null;
}

export async function jobStartedRoutes(app: FastifyInstance, services: Services): Promise<void> {
  app.post(JOB_STARTED_PATH, async (request, reply) => {
    const runner = await services.authenticator.authenticate(request);

    const report = parseReport(request.body);
    if (runner.repository !== null && report.repository !== runner.repository) {
      services.log.warn(
        {
          event: "run_hint_ignored",
          runner: runner.name,
          runnerId: runner.id,
          repository: runner.repository,
          reportedRepository: report.repository,
          run: report.runId,
          reason: "report names another repository",
        },
        "job-start report refused",
      );
      throw badRequest(
        `repository ${report.repository} is not this runner's repository (${runner.repository})`,
      );
    }

    await services.runners.recordHint(runner.id, report);
    services.log.info(
      {
        event: "job_start_reported",
        runner: runner.name,
        runnerId: runner.id,
        repository: report.repository,
        run: report.runId,
        runAttempt: report.runAttempt,
      },
      "job start reported",
    );
    // Without an App there is nobody to ask; the webhook alone will tell.
    if (services.github !== undefined) setImmediate(() => resolveInBackground(services, runner));
    return reply.code(202).send({ message: "job start recorded" });
  });
}

/** Asks GitHub now, so the job's first cache call joins or reuses the answer. */
function resolveInBackground(services: Services, runner: Runner): void {
  services.runners
    .get(runner.id)
    .then((current) => current && services.resolver.resolve({ runner: current, access: "read" }))
    .catch((error: unknown) => {
      // The next cache call resolves again; a failure here (say, during shutdown) costs nothing.
      services.log.debug(
        { event: "background_resolve_failed", runnerId: runner.id, err: (error as Error).message },
        "background resolution failed",
      );
    });
}

function parseReport(body: unknown): JobStartReport {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("body must be a JSON object {repository, run_id, run_attempt}");
  }
  const fields = body as Record<string, unknown>;
  if (typeof fields.repository !== "string" || !REPOSITORY_NAME.test(fields.repository)) {
    throw badRequest("repository must be owner/name, as in GITHUB_REPOSITORY");
  }
  const runId = positiveInteger(fields.run_id);
  if (runId === undefined)
    throw badRequest("run_id must be a positive whole number, as in GITHUB_RUN_ID");
  let runAttempt: number | null = null;
  if (fields.run_attempt !== undefined && fields.run_attempt !== null) {
    const attempt = positiveInteger(fields.run_attempt);
    if (attempt === undefined) {
      throw badRequest("run_attempt must be a positive whole number, as in GITHUB_RUN_ATTEMPT");
    }
    runAttempt = attempt;
  }
  return { repository: fields.repository, runId, runAttempt };
}

/** A positive safe integer given as a JSON number or, as the hook's environment has it, a digit string. */
function positiveInteger(value: unknown): number | undefined {
  const number = typeof value === "string" && /^\d{1,16}$/.test(value) ? Number(value) : value;
  return typeof number === "number" && Number.isSafeInteger(number) && number > 0
    ? number
    : undefined;
}
