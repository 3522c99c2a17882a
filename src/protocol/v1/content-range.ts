/**
 * The Content-Range of a v1 chunk: `bytes <start>-<end>/*`, end inclusive. The client never
 * knows the total before it commits, so the total is `*`; a number there is accepted too.
 */
import { badRequest } from "../../errors.js";

export interface ChunkRange {
  start: number;
  /** Inclusive, as in the header. */
  end: number;
}

const CONTENT_RANGE = /^bytes (\d{1,16})-(\d{1,16})\/(\*|\d{1,16})$/;

export function parseContentRange(header: string | string[] | undefined): ChunkRange {
  if (header === undefined || header === "") {
    throw badRequest("Content-Range header is required, as bytes <start>-<end>/*");
  }
  const value = Array.isArray(header) ? header.join(",") : header.trim();
  const match = CONTENT_RANGE.exec(value);
  if (!match) {
    throw badRequest(
      `Content-Range "${value.slice(0, 80)}" is not of the form bytes <start>-<end>/*`,
    );
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw badRequest(`Content-Range "${value}" has its end before its start`);
  }
  if (match[3] !== "*" && Number(match[3]) <= end) {
    throw badRequest(`Content-Range "${value}" ends beyond the total it announces`);
  }
  return { start, end };
}
