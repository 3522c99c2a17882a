/**
 * POST /webhooks/github: the GitHub App webhook. The signature is checked over the raw bytes
 * before the body is parsed; a missing or wrong signature is 401 and changes nothing. The
 * handler only writes to the metadata store, so it answers well within GitHub's 10 s.
 */
import type { FastifyInstance } from "fastify";
import type { Db } from "../db/database.js";
import type { Logger } from "../log.js";
import type { JobStore } from "../scope/job-store.js";
import type { RunStore } from "../scope/run-store.js";
import { recordPush } from "./push.js";
import { signatureMatches } from "./signature.js";
import { recordWorkflowJob } from "./workflow-job.js";
import { recordWorkflowRun } from "./workflow-run.js";

export const WEBHOOK_PATH = "/webhooks/github";
/** GitHub caps payloads at 25 MB. */
const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export interface WebhookDeps {
  secret: string | undefined;
  db: Db;
  jobs: JobStore;
  runs: RunStore;
  log: Logger;
}

export async function webhookRoutes(app: FastifyInstance, deps: WebhookDeps): Promise<void> {
  // Keep the body as bytes: the signature is over exactly what GitHub sent.
  app.addContentTypeParser(
    "*",
    { parseAs: "buffer", bodyLimit: MAX_WEBHOOK_BYTES },
    (_req, body, done) => done(null, body),
  );
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser(
    "application/json",
    { parseAs: "buffer", bodyLimit: MAX_WEBHOOK_BYTES },
    (_req, body, done) => done(null, body),
  );

  app.post(WEBHOOK_PATH, async (request, reply) => {
    if (deps.secret === undefined) {
      return reply
        .code(503)
        .send({ message: "webhook receiver is not configured: set GHA_CACHE_WEBHOOK_SECRET" });
    }
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (!(await signatureMatches(deps.secret, raw, request.headers["x-hub-signature-256"]))) {
      deps.log.warn(
        { event: "webhook_refused", reason: "missing or wrong X-Hub-Signature-256" },
        "webhook refused",
      );
      return reply
        .code(401)
        .send({ message: "X-Hub-Signature-256 is missing or does not match the body" });
    }

    const event = String(request.headers["x-github-event"] ?? "");
    const delivery = String(request.headers["x-github-delivery"] ?? "");
    if (event === "" || delivery === "") {
      return reply
        .code(400)
        .send({ message: "X-GitHub-Event and X-GitHub-Delivery headers are required" });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString("utf8"));
    } catch {
      return reply.code(400).send({ message: "webhook body is not valid JSON" });
    }
    if (typeof payload !== "object" || payload === null) {
      return reply.code(400).send({ message: "webhook body must be a JSON object" });
    }

    const seen = await deps.db
      .selectFrom("webhook_deliveries")
      .select("id")
      .where("id", "=", delivery)
      .executeTakeFirst();
    if (seen) {
      deps.log.info(
        { event: "webhook_duplicate", delivery, githubEvent: event },
        "duplicate delivery ignored",
      );
      return reply.code(200).send({ message: "duplicate delivery ignored" });
    }

    let message = `event ${event} ignored`;
    if (event === "workflow_job") {
      const outcome = await recordWorkflowJob(deps.jobs, payload);
      deps.log.info(
        {
          event: "workflow_job",
          delivery,
          recorded: outcome.recorded,
          reason: outcome.reason,
          job: outcome.jobId,
          run: outcome.runId,
          repository: outcome.repository,
          runner: outcome.runner,
          status: outcome.status,
        },
        "workflow_job received",
      );
      message = outcome.recorded
        ? `workflow_job ${outcome.status} recorded`
        : `workflow_job ignored: ${outcome.reason}`;
    } else if (event === "workflow_run") {
      await recordDefaultBranch(deps.jobs, payload);
      const outcome = await recordWorkflowRun(deps.runs, payload);
      deps.log.info({ event: "workflow_run", delivery, ...outcome }, "workflow_run received");
      message = outcome.recorded
        ? "workflow_run recorded"
        : `workflow_run ignored: ${outcome.reason}`;
    } else if (event === "push") {
      await recordDefaultBranch(deps.jobs, payload);
      const outcome = await recordPush(deps.runs, payload);
      deps.log.info({ event: "push", delivery, ...outcome }, "push received");
      message = outcome.recorded ? "push recorded" : `push ignored: ${outcome.reason}`;
    }
    await deps.db
      .insertInto("webhook_deliveries")
      .values({ id: delivery, event, received_at: Date.now() })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    return reply.code(200).send({ message });
  });
}

/**
 * Keeps the repository's default branch current from any payload that carries it, so a job whose
 * run and push events came needs no API call to learn it.
 */
async function recordDefaultBranch(jobs: JobStore, payload: object): Promise<void> {
  const { repository, installation } = payload as {
    repository?: { full_name?: unknown; default_branch?: unknown };
    installation?: { id?: unknown };
  };
  const fullName = repository?.full_name;
  const defaultBranch = repository?.default_branch;
  const installationId = installation?.id;
  if (
    typeof fullName !== "string" ||
    typeof defaultBranch !== "string" ||
    typeof installationId !== "number"
  )
    return;
  await jobs.recordRepository(fullName, installationId, defaultBranch);
}
