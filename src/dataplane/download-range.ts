/**
 * The byte range a download asks for, from `x-ms-range` (the Azure SDKs; it wins when both are
 * sent, as on Azure) or `Range` (RFC 9110 section 14.2). One range only, in its three forms:
 * `bytes=a-b`, `bytes=a-` (to the end) and `bytes=-n` (the last n bytes).
 *
 * RFC 9110 lets a server ignore a Range it does not understand; we refuse it with 400 instead,
 * because every client of this service that sends ranges sends well-formed single ranges, and
 * a client that gets the whole archive where it asked for a slice would corrupt its copy.
 */
import type { IncomingHttpHeaders } from "node:http";
import { badRequest } from "../errors.js";

export type RangeAnswer =
  /** No range asked: the whole entry, 200. */
  | { kind: "whole" }
  /** Bytes start..end inclusive, 206. */
  | { kind: "partial"; start: number; end: number }
  /** Nothing of the entry lies in the range: 416. */
  | { kind: "unsatisfiable" };

const RANGE_HEADERS = ["x-ms-range", "range"] as const;
const BYTE_RANGE = /^bytes=(\d{0,16})-(\d{0,16})$/;

export function rangeOf(headers: IncomingHttpHeaders, size: number): RangeAnswer {
  for (const name of RANGE_HEADERS) {
    const value = headers[name];
    if (typeof value === "string" && value.trim() !== "") {
      return parseByteRange(name, value.trim(), size);
    }
  }
  return { kind: "whole" };
}

function parseByteRange(name: string, value: string, size: number): RangeAnswer {
  const match = BYTE_RANGE.exec(value.replace(/\s+/g, ""));
  const first = match?.[1] ?? "";
  const last = match?.[2] ?? "";
  if (!match || (first === "" && last === "")) {
    throw badRequest(
      `${name} "${value.slice(0, 80)}" is not one range of the form bytes=a-b, bytes=a- or bytes=-n`,
    );
  }

  if (first === "") {
    // A suffix: the last n bytes, all of them when n exceeds the size.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) {
    throw badRequest(`${name} "${value}" ends before it starts`);
  }
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) };
}
