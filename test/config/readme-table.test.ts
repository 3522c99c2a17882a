/**
 * The README's configuration table and the variables config.ts reads stay the same list: a
 * variable added to one and not the other fails here, not in an operator's hands.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig } from "../../src/config.js";

/** dist/test/config/ -> the repository root. */
const ROOT = new URL("../../../", import.meta.url);
const VARIABLE = /GHA_CACHE_[A-Z0-9_]*[A-Z0-9]/g;

async function readmeVariables(): Promise<string[]> {
  const readme = await readFile(fileURLToPath(new URL("README.md", ROOT)), "utf8");
  const rows = readme.split("\n").filter((line) => line.startsWith("| `GHA_CACHE_"));
  return rows.map((row) => row.match(VARIABLE)?.[0] ?? row);
}

test("every variable in the README's table is one the configuration reads", async () => {
  const documented = await readmeVariables();
  assert.ok(documented.length > 0, "the README has a configuration table");
  for (const name of documented) {
    try {
      loadConfig({ [name]: "x" });
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const unknown = error.problems.find((problem) =>
        problem.includes("is not a gha-cache setting"),
      );
      assert.equal(unknown, undefined, `${name} is documented but not read`);
    }
  }
});

test("every variable the configuration reads has a row in the README's table", async () => {
  const source = await readFile(fileURLToPath(new URL("src/config.ts", ROOT)), "utf8");
  const read = new Set(
    source.match(new RegExp(`"${VARIABLE.source}"`, "g"))?.map((quoted) => quoted.slice(1, -1)),
  );
  const documented = new Set(await readmeVariables());
  assert.ok(read.size > 0);
  assert.deepEqual(
    [...read].filter((name) => !documented.has(name)),
    [],
  );
});
