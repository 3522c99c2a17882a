/**
 * v2 Twirp cache API: POST /twirp/github.actions.results.api.v1.CacheService/<Method>, at the
 * origin root (the official client resolves `/twirp/...` against ACTIONS_RESULTS_URL, which drops
 * any base path).
 *
 * The body is decoded in the caller's format (`application/json` or `application/protobuf`) and
 * the answer is encoded in the same one; errors are always Twirp JSON, as the Twirp spec says.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { KiB } from "../../config.js";
import type { Services } from "../../services.js";
import { createCacheEntry } from "./create-entry.js";
import { finalizeCacheEntryUpload } from "./finalize-upload.js";
import { getCacheEntryDownloadUrl } from "./get-download-url.js";
import type { AnyRpc, WireFormat } from "./rpc.js";
import { badRoute, INTERNAL_ANSWER, twirpAnswerFor } from "./twirp-error.js";

const CACHE_SERVICE = "github.actions.results.api.v1.CacheService";
/** Where the methods live: `${CACHE_SERVICE_PATH}/<Method>`. */
export const CACHE_SERVICE_PATH = `/twirp/${CACHE_SERVICE}`;

/** Ten keys of 512 characters and a version fit many times over; nothing legitimate is larger. */
const MAX_TWIRP_BODY_BYTES = 64 * KiB;

const METHODS: Readonly<Record<string, AnyRpc>> = {
  GetCacheEntryDownloadURL: getCacheEntryDownloadUrl,
  CreateCacheEntry: createCacheEntry,
  FinalizeCacheEntryUpload: finalizeCacheEntryUpload,
};

/** Content types by the format they carry; Twirp's Go and Rust clients use the first two. */
const FORMATS: Readonly<Record<string, WireFormat>> = {
  "application/json": "json",
  "application/protobuf": "protobuf",
  "application/x-protobuf": "protobuf",
};

const CONTENT_TYPE: Readonly<Record<WireFormat, string>> = {
  json: "application/json",
  protobuf: "application/protobuf",
};

/** Registers the CacheService methods, and Twirp `bad_route` for everything else under /twirp/. */
export async function v2Routes(app: FastifyInstance, services: Services): Promise<void> {
  // Every body arrives as bytes: the method decides how to read it, and a bad body becomes a
  // Twirp `malformed` answer rather than Fastify's own error shape.
  app.removeAllContentTypeParsers();
  const asBytes = { parseAs: "buffer", bodyLimit: MAX_TWIRP_BODY_BYTES } as const;
  app.addContentTypeParser("*", asBytes, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    const answer = twirpAnswerFor(error);
    if (answer === undefined) {
      request.log.error({ err: error, requestId: request.id }, "twirp call failed");
    } else {
      const { code, msg } = answer.body;
      request.log.info({ event: "twirp_error", code, msg, requestId: request.id }, "twirp error");
    }
    const { status, body } = answer ?? INTERNAL_ANSWER;
    return reply.code(status).type("application/json").send(body);
  });

  app.post(`${CACHE_SERVICE_PATH}/:method`, async (request, reply) => {
    const { method } = request.params as { method: string };
    const rpc = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
    if (rpc === undefined) throw badRoute(`no method ${method} in ${CACHE_SERVICE}`);
    const format = wireFormatOf(request);
    const message = rpc.decode(bodyOf(request), format);
    const answer = await rpc.handle(services, request, message);
    return sendAnswer(reply, rpc.encode(answer, format), format);
  });

  // Twirp answers every other path and method under its prefix with bad_route, never a bare 404,
  // unless those calls go on to the results upstream (results-passthrough.ts).
  if (services.config.resultsUpstreamUrl !== undefined) return;
  app.all("/twirp/*", async (request) => {
    throw badRoute(
      `no Twirp route for ${request.method} ${request.routeOptions.url ?? "this path"}`,
    );
  });
}

function wireFormatOf(request: FastifyRequest): WireFormat {
  const header = request.headers["content-type"] ?? "";
  const mediaType = header.split(";")[0]?.trim().toLowerCase() ?? "";
  const format = FORMATS[mediaType];
  if (format === undefined) {
    throw badRoute(
      `unsupported Content-Type "${header.slice(0, 80)}": use application/json or application/protobuf`,
    );
  }
  return format;
}

function bodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

function sendAnswer(reply: FastifyReply, body: Buffer, format: WireFormat): FastifyReply {
  return reply.code(200).type(CONTENT_TYPE[format]).send(body);
}
