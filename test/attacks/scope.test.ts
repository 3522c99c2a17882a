/**
 * Attacks on the scope resolver: forks, untrusted triggers, sibling refs, replays after the job,
 * out-of-order webhooks, stale attempts and spoofed run-id hints.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { pullRequestRun, TAG_RUN, type RunSpec } from "../helpers/run-webhooks.js";
import { runOfJobs } from "../helpers/fake-github.js";
import { reportJobStart, startWithGitHub } from "../scope/fixture.js";
import {
  assertNoSecrets,
  nextId,
  secretsOf,
  v1,
  v1Lookup,
  v1Save,
  v2Lookup,
  v2Save,
  VERSION,
} from "./kit.js";

let server: TestServer;
const tokens: string[] = [];
const REPO = "octo/scoped";

interface OnJob {
  token: string;
  jobId: number;
  runId: number;
  name: string;
  branch: string | null;
  run?: RunSpec | null;
  runnerId: string;
}

async function onJob(
  name: string,
  branch: string | null,
  run?: RunSpec | null,
  opts: {
    repo?: string;
    runner?: string | null;
    runAttempt?: number;
    reuse?: string;
    startedAt?: string;
  } = {},
): Promise<OnJob> {
  let token = opts.reuse;
  let runnerId = "";
  if (token === undefined) {
    const reg = await server.registerRunner(
      name,
      opts.runner === undefined ? (opts.repo ?? REPO) : opts.runner,
    );
    token = reg.token;
    runnerId = reg.runner.id;
    tokens.push(token);
  }
  const jobId = nextId();
  const runId = jobId * 10;
  const status = await server.jobEvent({
    action: "in_progress",
    jobId,
    runId,
    runAttempt: opts.runAttempt,
    repository: opts.repo ?? REPO,
    headBranch: branch,
    runnerName: name,
    run,
    startedAt: opts.startedAt,
  });
  assert.equal(status, 200);
  return { token, jobId, runId, name, branch, run, runnerId };
}

async function complete(job: OnJob, repo = REPO) {
  const status = await server.jobEvent({
    action: "completed",
    jobId: job.jobId,
    runId: job.runId,
    repository: repo,
    headBranch: job.branch,
    runnerName: job.name,
    run: null,
  });
  assert.equal(status, 200);
}

const mainEntries = async (key: string) => {
  const main = await onJob(`main-reader-${nextId()}`, "main");
  return v1Lookup(server.url, main.token, [key]);
};

before(async () => {
  server = await startTestServer();
});

after(async () => {
  assertNoSecrets(server, secretsOf(tokens, []));
  await server.close();
});

test("fork PR whose head branch is 'main' cannot save into refs/heads/main (v1 and v2)", async () => {
  const fork = await onJob("fork-pr", "main", pullRequestRun(7, "main", "evil/scoped"));
  const save = await v1Save(server.url, fork.token, "fork-poison");
  if (save.reserve === 201) assert.equal(save.commit, 204);
  const v2 = await v2Save(server, fork.token, "fork-poison-v2");
  const hit = await mainEntries("fork-poison");
  assert.equal(hit.status, 204, `main job restored the fork's save: ${hit.text}`);
  const hit2 = await mainEntries("fork-poison-v2");
  assert.equal(hit2.status, 204);
  void v2;
});

test("fork 'push' run (head repository differs) on head branch main: read-only", async () => {
  const fork = await onJob("fork-push", "main", { event: "push", headRepository: "evil/scoped" });
  const save = await v1Save(server.url, fork.token, "fork-push-poison");
  assert.equal(save.reserve, 403, save.message);
});

test("pull_request_target job cannot save (403 on v1, ok:false on v2)", async () => {
  const prt = await onJob("prt", "main", { event: "pull_request_target", pushes: [] });
  const save = await v1Save(server.url, prt.token, "prt-poison");
  assert.equal(save.reserve, 403);
  const v2 = await v2Save(server, prt.token, "prt-poison-v2");
  assert.equal(v2.created.json.ok ?? false, false);
  assert.match(String(v2.created.json.message), /^cache write denied:/);
});

test("issue_comment and workflow_run triggers on main cannot save", async () => {
  for (const event of ["issue_comment", "workflow_run", "discussion_comment", "some_new_event"]) {
    const j = await onJob(`ro-${event}`, "main", { event, pushes: [] });
    assert.equal((await v1Save(server.url, j.token, `ro-${event}`)).reserve, 403, event);
  }
});

test("PR job reads neither a sibling PR's merge ref nor its base when the PR is from another base repository", async () => {
  const pr1 = await onJob("pr-1", "feature-1", pullRequestRun(1, "main"));
  assert.equal((await v1Save(server.url, pr1.token, "pr-sibling")).commit, 204);
  const pr2 = await onJob("pr-2", "feature-2", pullRequestRun(2, "main"));
  assert.equal((await v1Lookup(server.url, pr2.token, ["pr-sibling"])).status, 204);
  // The merge ref of PR 1 is not the main branch either.
  assert.equal((await mainEntries("pr-sibling")).status, 204);
});

test("PR job listing a PR whose base is another repository cannot read that base", async () => {
  const other = await onJob("other-main", "main", undefined, { repo: "octo/other" });
  assert.equal((await v1Save(server.url, other.token, "other-base")).commit, 204);
  const pr = await onJob("pr-x", "fx", {
    event: "pull_request",
    pullRequests: [{ number: 3, baseRef: "main", baseRepository: "octo/other" }],
    pushes: [],
  });
  assert.equal((await v1Lookup(server.url, pr.token, ["other-base"])).status, 204);
});

test("feature branch cannot read its child branch, nor the child its parent (only default)", async () => {
  const child = await onJob("child", "feature/x");
  assert.equal((await v1Save(server.url, child.token, "child-key")).commit, 204);
  const parent = await onJob("parent", "feature");
  assert.equal((await v1Lookup(server.url, parent.token, ["child-key"])).status, 204);
  assert.equal((await v1Save(server.url, parent.token, "parent-key")).commit, 204);
  const child2 = await onJob("child2", "feature/x");
  assert.equal((await v1Lookup(server.url, child2.token, ["parent-key"])).status, 204);
});

test("tag job cannot read another tag's entries", async () => {
  const t1 = await onJob("tag-1", "v1.0.0", TAG_RUN);
  assert.equal((await v1Save(server.url, t1.token, "tag-key")).commit, 204);
  const t2 = await onJob("tag-2", "v2.0.0", TAG_RUN);
  assert.equal((await v1Lookup(server.url, t2.token, ["tag-key"])).status, 204);
});

test("branch and tag of the same name are different scopes; both pushed is read-only", async () => {
  const tag = await onJob("tag-rel", "rel", TAG_RUN);
  const saved = await v1Save(server.url, tag.token, "rel-key");
  assert.equal(saved.commit, 204);
  const branch = await onJob("branch-rel", "rel");
  assert.equal((await v1Lookup(server.url, branch.token, ["rel-key"])).status, 204);
  const both = await onJob("both-rel", "rel2", { event: "push", pushes: ["branch", "tag"] });
  assert.equal((await v1Save(server.url, both.token, "both")).reserve, 403);
});

test("token replayed after the job completed: lookup is a miss, save is 403 (v1 and v2)", async () => {
  const j = await onJob("replayer", "main");
  assert.equal((await v1Save(server.url, j.token, "before-complete")).commit, 204);
  const pending = await v1(server.url, j.token, "POST", "caches", {
    key: "pending-at-complete",
    version: VERSION,
    cacheSize: 3,
  });
  assert.equal(pending.status, 201);
  const v2 = await v2Save(server, j.token, "v2-pending-ignore");
  assert.equal(v2.finalized?.json.ok, true);
  await complete(j);
  assert.equal((await v1Lookup(server.url, j.token, ["before-complete"])).status, 204);
  assert.equal((await v1Save(server.url, j.token, "after-complete")).reserve, 403);
  const patch = await v1(
    server.url,
    j.token,
    "PATCH",
    `caches/${pending.json.cacheId}`,
    Buffer.from("abc"),
    { "content-range": "bytes 0-2/*" },
  );
  assert.equal(patch.status, 403);
  const commit = await v1(server.url, j.token, "POST", `caches/${pending.json.cacheId}`, {
    size: 3,
  });
  assert.equal(commit.status, 403);
  assert.equal((await v2Lookup(server, j.token, "before-complete")).json.ok ?? false, false);
  // Through the path credential too.
  assert.equal(
    (await v1Lookup(`${server.url}/r/${j.token}`, undefined, ["before-complete"])).status,
    204,
  );
});

test("v2 signed upload URL stops working when the job that asked for it completes", async () => {
  const j = await onJob("v2-late", "main");
  const { twirp } = await import("../protocol/v2-client.js");
  const created = await twirp(server.url, j.token, "CreateCacheEntry", {
    key: "late-upload",
    version: VERSION,
  });
  assert.equal(created.json.ok, true);
  await complete(j);
  const put = await fetch(String(created.json.signed_upload_url), {
    method: "PUT",
    headers: { "x-ms-blob-type": "BlockBlob", "content-length": "4" },
    body: "LATE",
  });
  assert.equal(put.status, 403, "bytes for a completed job's upload are refused");
  const fin = await twirp(server.url, j.token, "FinalizeCacheEntryUpload", {
    key: "late-upload",
    version: VERSION,
    size_bytes: "4",
  });
  assert.equal(fin.json.ok ?? false, false);
});

test("token after a new job starts on the same runner: old job's reserved entry in another scope cannot be filled", async () => {
  const j1 = await onJob("reused", "feature-a");
  const pending = await v1(server.url, j1.token, "POST", "caches", {
    key: "j1-pending",
    version: VERSION,
    cacheSize: 3,
  });
  assert.equal(pending.status, 201);
  await complete(j1);
  const j2 = await onJob("reused", "feature-b", undefined, { reuse: j1.token });
  const patch = await v1(
    server.url,
    j2.token,
    "PATCH",
    `caches/${pending.json.cacheId}`,
    Buffer.from("abc"),
    { "content-range": "bytes 0-2/*" },
  );
  assert.equal(patch.status, 403, patch.text);
});

test("webhook 'completed' arriving before 'in_progress': the runner gets nothing", async () => {
  const { token } = await server.registerRunner("ooo", REPO);
  tokens.push(token);
  const jobId = nextId();
  const runId = jobId * 10;
  assert.equal(
    await server.jobEvent({
      action: "completed",
      jobId,
      runId,
      repository: REPO,
      headBranch: "main",
      runnerName: "ooo",
    }),
    200,
  );
  assert.equal(
    await server.jobEvent({
      action: "in_progress",
      jobId,
      runId,
      repository: REPO,
      headBranch: "main",
      runnerName: "ooo",
    }),
    200,
  );
  assert.equal((await v1Save(server.url, token, "ooo")).reserve, 403);
});

test("stale attempt: a late in_progress webhook of attempt 1 does not displace attempt 2 on the same runner", async () => {
  const { token } = await server.registerRunner("attempts", REPO);
  tokens.push(token);
  const runId = nextId() * 10;
  const early = new Date(Date.now() - 60_000).toISOString();
  // attempt 2 on branch main is the live job.
  await server.jobEvent({
    action: "in_progress",
    jobId: runId + 2,
    runId,
    runAttempt: 2,
    repository: REPO,
    headBranch: "main",
    runnerName: "attempts",
  });
  // late: attempt 1's in_progress (started a minute ago) arrives now.
  await server.jobEvent({
    action: "in_progress",
    jobId: runId + 1,
    runId,
    runAttempt: 1,
    repository: REPO,
    headBranch: "main",
    runnerName: "attempts",
    startedAt: early,
    run: null,
  });
  const decision = await server.server.services.resolver.resolve({
    runner: (await server.server.services.runners.get(
      (await server.server.services.runners.list()).find((r) => r.name === "attempts")!.id,
    ))!,
    access: "write",
  });
  assert.equal(decision.job?.runAttempt, 2);
});

test("lease ends when the attempt changes: attempt-1 job (completion lost) may not write once attempt 2 runs", async () => {
  const a1 = await onJob("att-old", "main");
  // Attempt 2 of the same run starts on another runner; attempt 1's completed webhook was lost.
  await server.jobEvent({
    action: "in_progress",
    jobId: a1.jobId + 1,
    runId: a1.runId,
    runAttempt: 2,
    repository: REPO,
    headBranch: "main",
    runnerName: "att-new",
  });
  const save = await v1Save(server.url, a1.token, "stale-attempt-write");
  assert.equal(
    save.reserve,
    403,
    "attempt 1's runner still writes after attempt 2 started (github-side.md §6 item 6)",
  );
});

test("run-id hint without a GitHub App cannot grant anything (header, query, report)", async () => {
  const { token } = await server.registerRunner("hinted", REPO);
  tokens.push(token);
  const victim = await onJob("victim-runner", "main");
  const headers = { "x-github-run-id": String(victim.runId) };
  assert.equal((await v1Save(server.url, token, "hint-h", undefined, headers)).reserve, 403);
  const q = await v1(
    server.url,
    token,
    "GET",
    `cache?keys=x&version=${VERSION}&run_id=${victim.runId}`,
  );
  assert.equal(q.status, 204);
  const rep = await reportJobStart(server, token, {
    repository: REPO,
    run_id: victim.runId,
    run_attempt: 1,
  });
  assert.equal(rep.status, 202);
  assert.equal((await v1Save(server.url, token, "hint-r")).reserve, 403);
  // Report naming another repository: 400.
  const other = await reportJobStart(server, token, { repository: "octo/elsewhere", run_id: 5 });
  assert.equal(other.status, 400);
  // Bad hints are 400, not 500.
  for (const bad of ["-1", "0", "1e5", "99999999999999999999", "abc"]) {
    const r = await v1(server.url, token, "GET", `cache?keys=x&version=${VERSION}`, undefined, {
      "x-github-run-id": bad,
    });
    assert.equal(r.status, 400, bad);
  }
});

test("org runner whose name collides with a repository runner of another repo in the same installation", async () => {
  // The org runner 'builder' runs a job of octo/trusted on main. An attacker with admin on
  // octo/attacker registers a repository-level runner also called 'builder' and starts a job.
  const trusted = "octo/trusted";
  const evil = "octo/attacker";
  const { token } = await server.registerRunner("builder", null);
  tokens.push(token);
  const t0 = new Date(Date.now() - 5_000).toISOString();
  const tj = nextId();
  await server.jobEvent({
    action: "in_progress",
    jobId: tj,
    runId: tj * 10,
    repository: trusted,
    headBranch: "main",
    runnerName: "builder",
    startedAt: t0,
  });
  // The attacker's repo saves a poisoned entry on its own main branch (allowed: their repo).
  const ev = await onJob("evil-main", "main", undefined, { repo: evil });
  assert.equal((await v1Save(server.url, ev.token, "deps-key", Buffer.from("POISON"))).commit, 204);
  // Then the attacker's own runner named 'builder' starts a job in octo/attacker.
  const ej = nextId();
  await server.jobEvent({
    action: "in_progress",
    jobId: ej,
    runId: ej * 10,
    repository: evil,
    headBranch: "main",
    runnerName: "builder",
  });
  // The trusted org runner, still on octo/trusted main, restores 'deps-key'.
  const r = await v1Lookup(server.url, token, ["deps-key"]);
  assert.equal(
    r.status,
    204,
    `the org runner of octo/trusted restored octo/attacker's entry: ${r.text}`,
  );
});
