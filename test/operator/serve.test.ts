/**
 * `gha-cache serve` as an operator runs it: a real process on a port chosen beforehand, answering
 * /healthz, writing JSON log lines without deprecation noise, and stopping cleanly on SIGTERM.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli, startServe, tempDataDir } from "../cli/cli-process.js";

test("serve starts on the configured port, answers /healthz and exits 0 on SIGTERM", async () => {
  const data = await tempDataDir();
  const server = await startServe({ GHA_CACHE_DATA_DIR: data.dir });
  try {
    const response = await fetch(`${server.url}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ok" });

    assert.equal(await server.stop(), 0);
    const lines = server.stdout
      .join("")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const events = lines.map((line) => line.event).filter((event) => event !== undefined);
    assert.deepEqual(
      events.filter((event) => ["started", "stopping", "stopped"].includes(String(event))),
      ["started", "stopping", "stopped"],
    );
    const request = lines.find((line) => line.event === "request");
    assert.equal(request?.route, "/healthz");
    assert.equal(request?.status, 200);
  } finally {
    await server.stop();
    await data.remove();
  }
});

test("serve prints no deprecation or other warning on stderr", async () => {
  const data = await tempDataDir();
  const server = await startServe({ GHA_CACHE_DATA_DIR: data.dir });
  try {
    await (await fetch(`${server.url}/healthz`)).arrayBuffer();
    await server.stop();
    const stderr = server.stderr.join("");
    assert.doesNotMatch(stderr, /FSTDEP|DeprecationWarning|Warning/);
    assert.equal(stderr, "");
  } finally {
    await server.stop();
    await data.remove();
  }
});

test("a port already taken makes serve exit 1 with a one-line reason", async () => {
  const data = await tempDataDir();
  const first = await startServe({ GHA_CACHE_DATA_DIR: data.dir });
  const port = new URL(first.url).port;
  try {
    const second = await runCli(["serve"], {
      GHA_CACHE_DATA_DIR: data.dir,
      GHA_CACHE_HOST: "127.0.0.1",
      GHA_CACHE_PORT: port,
    });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /EADDRINUSE/);
    assert.doesNotMatch(second.stderr, /\n\s+at /, "a system error needs no stack trace");
  } finally {
    await first.stop();
    await data.remove();
  }
});
