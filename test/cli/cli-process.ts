/**
 * The built CLI run as a child process, the way an operator or a provisioning script runs it:
 * `node dist/src/cli/main.js ...` with its own environment and a temporary data folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** dist/test/cli/ -> dist/src/cli/main.js */
const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const LOOPBACK = "127.0.0.1";
/** Long enough for a cold start on a busy CI machine; a healthy start takes well under a second. */
const START_TIMEOUT_MS = 20_000;
/** The log line `serve` writes once it listens. */
const STARTED = '"event":"started"';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The parent's environment without any GHA_CACHE_* setting of the machine, plus `env`. */
export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("GHA_CACHE_")),
  );
  return { ...clean, ...env };
}

export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: cliEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout = collect(child, "stdout");
  const stderr = collect(child, "stderr");
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
}

export async function tempDataDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "gha-cache-cli-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A port nobody listens on right now: `serve` must be told its port so the test can reach it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, LOOPBACK);
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote, as it came. */
  stdout: string[];
  stderr: string[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `gha-cache serve` on a free loopback port and waits for its "started" log line. */
export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const port = await freePort();
  const url = `http://${LOOPBACK}:${port}`;
  const child = spawn(process.execPath, [CLI, "serve"], {
    env: cliEnv({
      GHA_CACHE_HOST: LOOPBACK,
      GHA_CACHE_PORT: String(port),
      GHA_CACHE_PUBLIC_URL: url,
      ...env,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout = collect(child, "stdout");
  const stderr = collect(child, "stderr");
  const exited = once(child, "exit").then(([code]) => code as number | null);
  await waitForStart(child, stdout, stderr);
  return {
    url,
    child,
    stdout,
    stderr,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

function collect(child: ChildProcess, stream: "stdout" | "stderr"): string[] {
  const chunks: string[] = [];
  child[stream]?.setEncoding("utf8").on("data", (chunk: string) => chunks.push(chunk));
  return chunks;
}

/** Resolves on the "started" log line; rejects if the process exits first or takes too long. */
function waitForStart(child: ChildProcess, stdout: string[], stderr: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`serve did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const onData = () => {
      if (stdout.join("").includes(STARTED)) finish();
    };
    const onExit = (code: number | null) =>
      finish(new Error(`serve exited with ${code}: ${stderr.join("")}`));
    function finish(error?: Error) {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    }
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}
