/**
 * Reading a Put Block List body: `<BlockList>` holding `Latest`, `Uncommitted` and `Committed`
 * elements whose text is a block id, in the order that defines the blob
 * (https://learn.microsoft.com/rest/api/storageservices/put-block-list). Until a list is
 * committed every block is an uncommitted one, so the three element names mean the same here.
 */
import type { Readable } from "node:stream";
import { XMLParser } from "fast-xml-parser";
import { MiB } from "../config.js";
import { badXml, bodyTooLarge } from "./azure-errors.js";

/** 50,000 blocks (Azure's own limit) of 64-character ids, with their tags, stay below this. */
export const MAX_BLOCK_LIST_BYTES = 8 * MiB;

const BLOCK_ELEMENTS = new Set(["Latest", "Uncommitted", "Committed"]);
const TEXT = "#text";
const ATTRIBUTES = ":@";

// Document order matters (it is the blob's order), so the parser keeps it; tag values stay text.
const parser = new XMLParser({
  preserveOrder: true,
  parseTagValue: false,
  ignoreDeclaration: true,
  trimValues: true,
});

type Node = Record<string, unknown>;

/** Reads at most MAX_BLOCK_LIST_BYTES of `body` as text; more is 413 RequestBodyTooLarge. */
export async function readBlockListBody(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BLOCK_LIST_BYTES) {
      throw bodyTooLarge(`block list is larger than ${MAX_BLOCK_LIST_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The block ids of a `<BlockList>` document, in document order; 400 InvalidXmlDocument otherwise. */
export function parseBlockList(xml: string): string[] {
  // A DTD could declare entities that expand without bound; Azure's schema has none.
  if (/<!DOCTYPE/i.test(xml)) throw badXml("block list must not contain a DOCTYPE");
  let document: Node[];
  try {
    document = parser.parse(xml, true) as Node[];
  } catch (error) {
    throw badXml(`block list is not well-formed XML: ${(error as Error).message}`);
  }
  const roots = document.filter((node) => !isComment(node));
  const root = roots[0];
  if (roots.length !== 1 || root === undefined || !Array.isArray(root.BlockList)) {
    throw badXml("block list must be one <BlockList> element");
  }
  return (root.BlockList as Node[]).filter((node) => !isComment(node)).map(blockIdOf);
}

function blockIdOf(node: Node): string {
  const name = Object.keys(node).find((key) => key !== ATTRIBUTES);
  if (name === undefined || !BLOCK_ELEMENTS.has(name)) {
    throw badXml(
      `<BlockList> may hold only Latest, Uncommitted and Committed elements, found ${name ?? "text"}`,
    );
  }
  const content = node[name] as Node[];
  const text = content.length === 1 ? content[0]?.[TEXT] : undefined;
  if (content.length > 1 || (content.length === 1 && typeof text !== "string")) {
    throw badXml(`<${name}> must hold only a block id`);
  }
  return typeof text === "string" ? text : "";
}

function isComment(node: Node): boolean {
  return "#comment" in node;
}
