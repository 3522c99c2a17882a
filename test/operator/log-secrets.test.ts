/**
 * Secrets never reach the log: after a save and a restore through signed URLs, a verified
 * webhook, forged and wrong credentials, the whole output of a `serve` process at trace level
 * holds none of the configured secrets, no runner token and no URL signature.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runWebhooksOf, sendWebhook, workflowJobPayload } from "../helpers/webhooks.js";
import { runCli, startServe, tempDataDir } from "../cli/cli-process.js";

const TOKEN_SECRET = "token-secret-0123456789abcdef0123456789";
const URL_SIGNING_SECRET = "url-signing-secret-0123456789abcdef01234";
const WEBHOOK_SECRET = "webhook-secret-0123456789abcdef0123456789";
const REPOSITORY = "octo/app";
const INSTALLATION = 31;
const RUNNER = "secret-keeper";
const TWIRP = "/twirp/github.actions.results.api.v1.CacheService";
const ARCHIVE = Buffer.from("archive bytes that a cache client would upload");

async function twirp(
  baseUrl: string,
  token: string,
  method: string,
  body: unknown,
): Promise<Record<string, any>> {
  const response = await fetch(`${baseUrl}${TWIRP}/${method}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, any>;
}

test("no secret, token or signature appears in the server's output", async () => {
  const data = await tempDataDir();
  const secrets = {
    GHA_CACHE_DATA_DIR: data.dir,
    GHA_CACHE_TOKEN_SECRET: TOKEN_SECRET,
    GHA_CACHE_URL_SIGNING_SECRET: URL_SIGNING_SECRET,
    GHA_CACHE_WEBHOOK_SECRET: WEBHOOK_SECRET,
  };
  const server = await startServe({ ...secrets, GHA_CACHE_LOG_LEVEL: "trace" });
  const leaks: string[] = [TOKEN_SECRET, URL_SIGNING_SECRET, WEBHOOK_SECRET];
  try {
    const added = await runCli(
      [
        "runner",
        "add",
        "--name",
        RUNNER,
        "--installation",
        String(INSTALLATION),
        "--repository",
        REPOSITORY,
        "--json",
      ],
      secrets,
    );
    assert.equal(added.code, 0, added.stderr);
    const token = (JSON.parse(added.stdout) as { token: string }).token;
    leaks.push(token);

    const spec = {
      action: "in_progress",
      jobId: 501,
      runId: 601,
      repository: REPOSITORY,
      headBranch: "main",
      runnerName: RUNNER,
      installationId: INSTALLATION,
    } as const;
    for (const hook of runWebhooksOf(spec)) {
      assert.equal(await sendWebhook(server.url, WEBHOOK_SECRET, hook.event, hook.payload), 200);
    }
    const job = workflowJobPayload(spec);
    assert.equal(await sendWebhook(server.url, WEBHOOK_SECRET, "workflow_job", job), 200);
    assert.equal(
      await sendWebhook(server.url, WEBHOOK_SECRET, "workflow_job", job, {
        signature: "sha256=00",
      }),
      401,
    );

    const entry = { key: "deps-1", version: "v1" };
    const created = await twirp(server.url, token, "CreateCacheEntry", entry);
    assert.equal(created.ok, true, JSON.stringify(created));
    const uploadUrl = String(created.signed_upload_url);
    const put = await fetch(uploadUrl, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob" },
      body: ARCHIVE,
    });
    assert.equal(put.status, 201);
    const finalized = await twirp(server.url, token, "FinalizeCacheEntryUpload", {
      ...entry,
      size_bytes: String(ARCHIVE.length),
    });
    assert.equal(finalized.ok, true, JSON.stringify(finalized));

    const v1 = await fetch(
      `${server.url}/_apis/artifactcache/cache?keys=${entry.key}&version=${entry.version}`,
      {
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json;api-version=6.0-preview.1",
        },
      },
    );
    assert.equal(v1.status, 200);
    const archiveLocation = String(
      ((await v1.json()) as { archiveLocation?: string }).archiveLocation,
    );

    const found = await twirp(server.url, token, "GetCacheEntryDownloadURL", entry);
    const downloadUrl = String(found.signed_download_url);
    assert.deepEqual(Buffer.from(await (await fetch(downloadUrl)).arrayBuffer()), ARCHIVE);
    for (const url of [uploadUrl, downloadUrl, archiveLocation])
      leaks.push(new URL(url).searchParams.get("sig") ?? url);

    // Wrong credentials are logged as refusals, without the credential that was tried.
    const forged = `${token.slice(0, -4)}AAAA`;
    leaks.push(forged);
    assert.equal(
      (await twirp(server.url, forged, "GetCacheEntryDownloadURL", entry)).code,
      "unauthenticated",
    );
    const tampered = downloadUrl.replace(/sig=[^&]+/, "sig=tampered-signature-value");
    leaks.push("tampered-signature-value");
    assert.equal((await fetch(tampered)).status, 403);
  } finally {
    await server.stop();
    await data.remove();
  }

  const output = server.stdout.join("") + server.stderr.join("");
  assert.ok(output.includes('"event":"request"'), "the requests were logged");
  for (const secret of leaks) {
    assert.ok(!output.includes(secret), `a secret (${secret.slice(0, 6)}...) appears in the log`);
  }
});
