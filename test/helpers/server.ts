/**
 * A real gha-cache server for tests: listening on 127.0.0.1 on a free port, with its own data
 * folder, its log lines captured as parsed JSON, and helpers to register runners and to tell it,
 * through a really signed webhook, which job a runner runs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { loadConfig, type Config } from "../../src/config.js";
import { mintRunnerToken } from "../../src/identity/runner-token.js";
import type { Runner } from "../../src/identity/runners.js";
import { createLogger } from "../../src/log.js";
import { startServer, type RunningServer } from "../../src/server.js";
import { runWebhooksOf, sendWebhook, workflowJobPayload, type JobSpec } from "./webhooks.js";

export const TEST_WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef";

export interface TestServer {
  url: string;
  config: Config;
  server: RunningServer;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw text of every log line, for greps (a secret must appear in none). */
  rawLogs: string[];
  registerRunner(
    name: string,
    repository: string | null,
    installationId?: number,
  ): Promise<{ runner: Runner; token: string }>;
  /**
   * Posts the signed workflow_run and push webhooks of the job's run (unless `spec.run` is
   * null), then its workflow_job webhook; returns the first status that is not 200, else 200.
   */
  jobEvent(spec: JobSpec): Promise<number>;
  /** Posts one signed webhook of any event; returns the HTTP status. */
  webhook(event: string, payload: unknown): Promise<number>;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "gha-cache-test-"));
  const config = loadConfig({
    GHA_CACHE_HOST: "127.0.0.1",
    GHA_CACHE_PORT: "0",
    GHA_CACHE_DATA_DIR: dataDir,
    GHA_CACHE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    GHA_CACHE_LOG_LEVEL: "debug",
    ...env,
  });
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const log = createLogger(config.logLevel, sink);
  const server = await startServer(config, log);
  // Signed URLs must point at the port actually bound.
  config.publicUrl = server.url;
  (server.services.signer as unknown as { origin: string }).origin = server.url;
  const url = server.url;

  return {
    url,
    config,
    server,
    logs,
    rawLogs,
    async registerRunner(name, repository, installationId = 1) {
      const runner = await server.services.runners.register({ name, repository, installationId });
      const token = await mintRunnerToken(server.services.secrets.tokenSecret, {
        runnerId: runner.id,
      });
      return { runner, token };
    },
    async jobEvent(spec) {
      const statuses: number[] = [];
      for (const hook of runWebhooksOf(spec)) {
        statuses.push(await sendWebhook(url, TEST_WEBHOOK_SECRET, hook.event, hook.payload));
      }
      const job = workflowJobPayload(spec);
      statuses.push(await sendWebhook(url, TEST_WEBHOOK_SECRET, "workflow_job", job));
      return statuses.find((status) => status !== 200) ?? 200;
    },
    async webhook(event, payload) {
      return sendWebhook(url, TEST_WEBHOOK_SECRET, event, payload);
    },
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
