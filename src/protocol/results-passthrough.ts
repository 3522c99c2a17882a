/**
 * ANY /twirp/<other service>/...: the results-service calls that are not cache calls (artifacts:
 * github.actions.results.api.v1.ArtifactService/*, and any other Twirp service), passed through
 * to GHA_CACHE_RESULTS_UPSTREAM_URL when ACTIONS_RESULTS_URL points here. Off when unset: then
 * the v2 plugin answers them with Twirp `bad_route`.
 *
 * The request goes on unchanged, the caller's Authorization included, and both bodies stream:
 * nothing is parsed, buffered or stored. node:http is used rather than fetch, because fetch
 * decodes a gzip or br answer and the caller would no longer get the bytes upstream sent.
 * Cache calls are never forwarded: GitHub's cache is not this service's to hand out.
 */
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../services.js";
import { leaveBodyUnread } from "./v1/streamed-body.js";
import { CACHE_SERVICE_PATH } from "./v2/routes.js";
import { badRoute, twirpAnswerFor } from "./v2/twirp-error.js";

/** Time to connect to the upstream and get its answer's headers. */
const UPSTREAM_RESPONSE_TIMEOUT_MS = 30_000;
/** A body that stops flowing for this long, either way, ends the exchange. */
const UPSTREAM_IDLE_TIMEOUT_MS = 60_000;
const BAD_GATEWAY = 502;
const GATEWAY_TIMEOUT = 504;

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus Host. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

export async function resultsPassthrough(app: FastifyInstance, services: Services): Promise<void> {
  const upstream = services.config.resultsUpstreamUrl;
  if (upstream === undefined) return;
  // Bodies of every type stay on the socket until they are piped upstream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", leaveBodyUnread);

  app.all("/twirp/*", async function passThrough(request, reply) {
    const path = request.url.split("?")[0] ?? "";
    if (path.startsWith(`${CACHE_SERVICE_PATH}/`)) {
      const answer = twirpAnswerFor(
        badRoute(`no Twirp route for ${request.method} on the cache service`),
      );
      return reply.code(answer!.status).type("application/json").send(answer!.body);
    }
    const startedAt = Date.now();
    const answer = await forward(request, new URL(request.url, upstream));
    request.log.info(
      {
        event: "results_passthrough",
        method: request.method,
        path,
        status: answer.status,
        durationMs: Date.now() - startedAt,
      },
      "results call passed through",
    );
    return send(reply, answer);
  });
}

type Answer = { status: number; response: IncomingMessage } | { status: number; message: string };

/** Sends the request upstream with its body streaming; resolves once the answer's headers arrive. */
function forward(request: FastifyRequest, target: URL): Promise<Answer> {
  const client = target.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    const outgoing = client.request(target, {
      method: request.method,
      headers: endToEnd(request.headers),
      timeout: UPSTREAM_RESPONSE_TIMEOUT_MS,
    });
    outgoing.on("response", (response) => {
      response.setTimeout(UPSTREAM_IDLE_TIMEOUT_MS, () => response.destroy());
      resolve({ status: response.statusCode ?? BAD_GATEWAY, response });
    });
    outgoing.on("timeout", () => {
      outgoing.destroy();
      resolve({ status: GATEWAY_TIMEOUT, message: "the results upstream did not answer in time" });
    });
    outgoing.on("error", () => {
      // The reason (say, ECONNREFUSED with an address) is the operator's, not the caller's.
      resolve({ status: BAD_GATEWAY, message: "the results upstream could not be reached" });
    });
    // A caller that hangs up mid-body must not leave a half request open upstream.
    request.raw.on("error", () => outgoing.destroy());
    request.raw.pipe(outgoing);
  });
}

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  if ("message" in answer) return reply.code(answer.status).send({ message: answer.message });
  const { response } = answer;
  reply.code(answer.status);
  for (const [name, value] of Object.entries(endToEnd(response.headers))) reply.header(name, value);
  return reply.send(response);
}

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}
