/**
 * A small protobuf codec for the flat messages of the cache service, in both encodings Twirp
 * allows: protobuf JSON (what @actions/cache and buildkit send) and binary protobuf (what
 * OpenDAL/sccache sends). A message is declared once as its fields with their numbers; no code
 * generation is needed because no message nests another that the service reads.
 *
 * JSON follows the protobuf JSON mapping as protobuf-ts reads it: proto (snake_case) or
 * lowerCamelCase names, int64 as a string or a number, null meaning "not set", unknown fields
 * ignored. Answers use snake_case and int64 strings.
 */
import { BinaryReader, BinaryWriter, WireType } from "@protobuf-ts/runtime";
import { malformed, TwirpError } from "./twirp-error.js";

/** `int64` values stay decimal strings: JSON numbers lose precision above 2^53. */
export type FieldKind = "string" | "repeated string" | "int64" | "bool";

export interface FieldSpec {
  number: number;
  kind: FieldKind;
}

/** Fields by their proto (snake_case) name. */
export type MessageSpec = Record<string, FieldSpec>;

type ValueOf<K extends FieldKind> = K extends "string"
  ? string
  : K extends "repeated string"
    ? string[]
    : K extends "int64"
      ? string
      : boolean;

export type Message<S extends MessageSpec> = { [Name in keyof S]: ValueOf<S[Name]["kind"]> };

const INT64 = /^-?\d{1,19}$/;
const LOWER_CAMEL = /_([a-z0-9])/g;

export class MessageCodec<S extends MessageSpec> {
  constructor(
    readonly name: string,
    private readonly spec: S,
  ) {}

  /** The message with every field at its proto3 default. */
  empty(): Message<S> {
    const message: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(this.spec)) message[name] = defaultOf(field.kind);
    return message as Message<S>;
  }

  fromJson(json: unknown): Message<S> {
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw malformed(`${this.name} must be a JSON object`);
    }
    const input = json as Record<string, unknown>;
    const message = this.empty() as Record<string, unknown>;
    for (const [name, field] of Object.entries(this.spec)) {
      const camel = name.replace(LOWER_CAMEL, (_match, letter: string) => letter.toUpperCase());
      const value = input[name] ?? input[camel];
      if (value === undefined || value === null) continue;
      message[name] = readJsonValue(value, field.kind, name);
    }
    return message as Message<S>;
  }

  fromBinary(bytes: Uint8Array): Message<S> {
    const message = this.empty() as Record<string, unknown>;
    const fields = Object.entries(this.spec).map(
      ([name, field]) => [field.number, { name, field }] as const,
    );
    const byNumber = new Map(fields);
    const reader = new BinaryReader(bytes);
    try {
      while (reader.pos < reader.len) {
        const [number, wireType] = reader.tag();
        const known = byNumber.get(number);
        // Fields the service does not read (metadata) are skipped whatever they hold.
        if (!known) {
          reader.skip(wireType);
          continue;
        }
        const { name, field } = known;
        const expected = wireTypeOf(field.kind);
        if (wireType !== expected)
          throw malformed(`${this.name}.${name} has wire type ${wireType}, not ${expected}`);
        if (field.kind === "repeated string") (message[name] as string[]).push(reader.string());
        else if (field.kind === "string") message[name] = reader.string();
        else if (field.kind === "int64") message[name] = reader.int64().toString();
        else message[name] = reader.bool();
      }
    } catch (error) {
      if (error instanceof TwirpError) throw error;
      throw malformed(`${this.name} is not valid protobuf: ${(error as Error).message}`);
    }
    return message as Message<S>;
  }

  /** snake_case names, int64 as strings; empty strings and lists are left out, booleans never. */
  toJson(message: Message<S>): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(this.spec)) {
      const value = (message as Record<string, unknown>)[name];
      if (field.kind === "bool" || !isDefault(value, field.kind)) json[name] = value;
    }
    return json;
  }

  toBinary(message: Message<S>): Uint8Array {
    const writer = new BinaryWriter();
    for (const [name, field] of Object.entries(this.spec)) {
      const value = (message as Record<string, unknown>)[name];
      if (isDefault(value, field.kind)) continue;
      const tagged = () => writer.tag(field.number, wireTypeOf(field.kind));
      if (field.kind === "repeated string")
        for (const item of value as string[]) tagged().string(item);
      else if (field.kind === "string") tagged().string(value as string);
      else if (field.kind === "int64") tagged().int64(value as string);
      else tagged().bool(value as boolean);
    }
    return writer.finish();
  }
}

function defaultOf(kind: FieldKind): string | string[] | boolean {
  if (kind === "repeated string") return [];
  if (kind === "int64") return "0";
  return kind === "bool" ? false : "";
}

function isDefault(value: unknown, kind: FieldKind): boolean {
  if (kind === "repeated string") return (value as string[]).length === 0;
  if (kind === "int64") return value === "0";
  return kind === "bool" ? value === false : value === "";
}

function wireTypeOf(kind: FieldKind): WireType {
  return kind === "int64" || kind === "bool" ? WireType.Varint : WireType.LengthDelimited;
}

function readJsonValue(value: unknown, kind: FieldKind, name: string): string | string[] | boolean {
  switch (kind) {
    case "string":
      if (typeof value !== "string") throw malformed(`${name} must be a string`);
      return value;
    case "repeated string":
      if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
        throw malformed(`${name} must be a list of strings`);
      }
      return value as string[];
    case "int64": {
      const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
      if (typeof text !== "string" || !INT64.test(text)) {
        throw malformed(`${name} must be a whole number (a 64-bit integer as a string or number)`);
      }
      return text;
    }
    case "bool":
      if (typeof value !== "boolean") throw malformed(`${name} must be true or false`);
      return value;
  }
}
