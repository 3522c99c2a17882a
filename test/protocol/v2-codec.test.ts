/**
 * The v2 message codec on its own: the JSON spellings protobuf-ts accepts, 64-bit integers kept
 * exact, and binary input that is truncated or uses the wrong wire type.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BinaryWriter, WireType } from "@protobuf-ts/runtime";
import {
  finalizeUploadRequest,
  finalizeUploadResponse,
  getDownloadUrlRequest,
} from "../../src/protocol/v2/messages.js";
import { TwirpError } from "../../src/protocol/v2/twirp-error.js";

/** 2^53 + 1: a JSON number would round it, a string keeps it. */
const BEYOND_DOUBLE_PRECISION = "9007199254740993";

function assertMalformed(action: () => unknown, message: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof TwirpError);
    assert.equal(error.twirpCode, "malformed");
    assert.match(error.message, message);
    return true;
  });
}

test("JSON requests take snake_case or lowerCamelCase, null as unset, and ignore unknown fields", () => {
  const decoded = getDownloadUrlRequest.fromJson({
    key: "k",
    restoreKeys: ["a", "b"],
    version: null,
    extra: 1,
  });
  assert.deepEqual(decoded, { key: "k", restore_keys: ["a", "b"], version: "" });
  assert.deepEqual(finalizeUploadRequest.fromJson({ key: "k", size_bytes: 12 }).size_bytes, "12");
  const exact = finalizeUploadRequest.fromJson({ sizeBytes: BEYOND_DOUBLE_PRECISION });
  assert.equal(exact.size_bytes, BEYOND_DOUBLE_PRECISION);
});

test("JSON values of the wrong type are malformed, naming the field", () => {
  assertMalformed(
    () => getDownloadUrlRequest.fromJson({ restore_keys: "k" }),
    /restore_keys must be a list/,
  );
  assertMalformed(
    () => finalizeUploadRequest.fromJson({ size_bytes: 1.5 }),
    /size_bytes must be a whole number/,
  );
  assertMalformed(
    () => finalizeUploadRequest.fromJson({ size_bytes: "1e3" }),
    /size_bytes must be a whole number/,
  );
  assertMalformed(() => finalizeUploadRequest.fromJson(null), /must be a JSON object/);
});

test("answers leave out empty strings but always carry ok, with int64 as a string", () => {
  assert.deepEqual(finalizeUploadResponse.toJson({ ok: false, entry_id: "0", message: "" }), {
    ok: false,
  });
  assert.deepEqual(
    finalizeUploadResponse.toJson({ ok: true, entry_id: BEYOND_DOUBLE_PRECISION, message: "" }),
    {
      ok: true,
      entry_id: BEYOND_DOUBLE_PRECISION,
    },
  );
});

test("binary answers decode back to what was encoded, 64-bit values exact", () => {
  const answer = { ok: true, entry_id: BEYOND_DOUBLE_PRECISION, message: "done" };
  assert.deepEqual(
    finalizeUploadResponse.fromBinary(finalizeUploadResponse.toBinary(answer)),
    answer,
  );
});

test("binary input with a field of the wrong wire type, or cut short, is malformed", () => {
  const keyAsVarint = new BinaryWriter().tag(2, WireType.Varint).int32(7).finish();
  assertMalformed(() => finalizeUploadRequest.fromBinary(keyAsVarint), /key has wire type/);
  const truncated = new BinaryWriter()
    .tag(2, WireType.LengthDelimited)
    .string("a long key")
    .finish()
    .slice(0, 4);
  assertMalformed(() => finalizeUploadRequest.fromBinary(truncated), /not valid protobuf/);
});
