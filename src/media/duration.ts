/**
 * The length of an Ogg/Opus voice note (what Conversations, Element and most clients record), read
 * from the file itself so recipients' players can show it before loading: the granule position of
 * the last Ogg page (RFC 7845 §4: 48 kHz samples) minus the pre-skip of the `OpusHead` header.
 * Only the first and last 64 KiB are read; anything unrecognised is simply unknown.
 */
import { open } from "node:fs/promises";

const TAIL = 64 * 1024;

/** The pre-skip (samples) of an Ogg stream starting with an OpusHead packet, or undefined. */
export function opusPreSkip(head: Buffer): number | undefined {
  const at = head.indexOf("OpusHead");
  return at >= 0 && at + 12 <= head.length ? head.readUInt16LE(at + 10) : undefined;
}

/** The granule position of the last complete Ogg page header in `tail`, or undefined. */
export function lastGranule(tail: Buffer): bigint | undefined {
  for (let at = tail.lastIndexOf("OggS"); at >= 0; at = at > 0 ? tail.lastIndexOf("OggS", at - 1) : -1) {
    if (at + 14 > tail.length || tail[at + 4] !== 0) continue; // stream structure version 0
    const g = tail.readBigInt64LE(at + 6);
    if (g >= 0n) return g;
  }
  return undefined;
}

/** Milliseconds of an Ogg/Opus file at `path` whose first bytes are `head`, or undefined. */
export async function opusDurationMs(path: string, head: Buffer, size: number): Promise<number | undefined> {
  const preSkip = opusPreSkip(head);
  if (preSkip === undefined) return undefined;
  const f = await open(path, "r");
  try {
    const length = Math.min(TAIL, size);
    const tail = Buffer.alloc(length);
    await f.read(tail, 0, length, size - length);
    const g = lastGranule(tail);
    if (g === undefined) return undefined;
    const samples = Number(g) - preSkip;
    return samples > 0 ? Math.round(samples / 48) : undefined;
  } finally {
    await f.close();
  }
}
