/**
 * One Twirp method: how its request and answer are encoded, and what it does. The transport
 * (routes.ts) decodes, calls `handle`, and encodes in the caller's own format.
 */
import type { FastifyRequest } from "fastify";
import type { Services } from "../../services.js";
import type { Message, MessageCodec, MessageSpec } from "./codec.js";
import { malformed } from "./twirp-error.js";

export interface Rpc<Req extends MessageSpec, Res extends MessageSpec> {
  request: MessageCodec<Req>;
  response: MessageCodec<Res>;
  handle(services: Services, request: FastifyRequest, message: Message<Req>): Promise<Message<Res>>;
}

/** A method with its message types erased, so methods of different shapes share one table. */
export interface AnyRpc {
  decode(bytes: Buffer, format: WireFormat): unknown;
  encode(answer: unknown, format: WireFormat): Buffer;
  handle(services: Services, request: FastifyRequest, message: unknown): Promise<unknown>;
}

export type WireFormat = "json" | "protobuf";

export function defineRpc<Req extends MessageSpec, Res extends MessageSpec>(
  rpc: Rpc<Req, Res>,
): AnyRpc {
  return {
    decode(bytes, format) {
      if (format === "protobuf") return rpc.request.fromBinary(bytes);
      return rpc.request.fromJson(parseJson(bytes, rpc.request.name));
    },
    encode(answer, format) {
      const message = answer as Message<Res>;
      if (format === "protobuf") return Buffer.from(rpc.response.toBinary(message));
      return Buffer.from(JSON.stringify(rpc.response.toJson(message)));
    },
    handle(services, request, message) {
      return rpc.handle(services, request, message as Message<Req>);
    },
  };
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw malformed(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}
