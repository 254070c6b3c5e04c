/**
 * Media bench (issue 13): 50 concurrent 20 MiB downloads through the one fetcher into the blob
 * store, then each served back out of the store, checked by hash. Proves streaming: resident
 * memory must stay far below 50 × 20 MiB.
 *
 *   files= size_mib=       what was moved
 *   mb_per_s=              MiB fetched and stored per second, all transfers together
 *   rss_mb_peak=           peak resident memory of this process (target < 300)
 *
 * Run: `npm run bench:media` (a temporary blob directory, deleted at the end).
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobStore } from "../src/media/blob-store.js";
import { Fetcher } from "../src/media/fetcher.js";

const FILES = 50;
const SIZE = 20 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024);

/** The bytes of file `i`: a 64 KiB block whose first bytes name the file, repeated. */
function block(i: number): Buffer {
  const b = Buffer.from(CHUNK);
  b.writeUInt32BE(i, 0);
  return b;
}

function expectedHash(i: number): string {
  const h = createHash("sha256");
  const b = block(i);
  for (let sent = 0; sent < SIZE; sent += b.length) h.update(b);
  return h.digest("hex");
}

const server = createServer((req, res) => {
  const i = Number(req.url?.slice(1));
  const b = block(i);
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(SIZE) });
  let sent = 0;
  const pump = (): void => {
    while (sent < SIZE) {
      sent += b.length;
      if (!res.write(b)) { res.once("drain", pump); return; }
    }
    res.end();
  };
  pump();
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;

const dir = await mkdtemp(join(tmpdir(), "parley-bench-media-"));
const store = new BlobStore({ dir, maxBlobBytes: 25 * 1024 * 1024, maxTotalBytes: 4 * 1024 ** 3, maxBlobs: 1000 });
const fetcher = new Fetcher({
  connectTimeoutMs: 5_000, totalTimeoutMs: 300_000, maxRedirects: 3, allowHosts: ["bench.media.test"],
  resolve: async () => [{ address: "127.0.0.1", family: 4 }],
});

const baseline = process.memoryUsage().rss;
let peak = baseline;
const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);

const started = performance.now();
const stored = await Promise.all(Array.from({ length: FILES }, async (_, i) => {
  const got = await fetcher.fetch({ url: `http://bench.media.test:${port}/${i}`, maxBytes: SIZE });
  return store.put(got.body);
}));
const seconds = (performance.now() - started) / 1000;

let wrong = 0;
for (const [i, blob] of stored.entries()) {
  const h = createHash("sha256");
  for await (const c of await store.open(blob.ref)) h.update(c as Buffer);
  if (h.digest("hex") !== expectedHash(i) || blob.ref !== `sha256:${expectedHash(i)}`) wrong++;
}
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);

server.close();
await rm(dir, { recursive: true, force: true });
console.log(`files=${FILES} size_mib=${SIZE / 1024 / 1024} hash_mismatches=${wrong}`);
console.log(`mb_per_s=${((FILES * SIZE) / 1024 / 1024 / seconds).toFixed(1)}`);
console.log(`rss_mb_peak=${(peak / 1024 / 1024).toFixed(1)} rss_mb_before=${(baseline / 1024 / 1024).toFixed(1)}`);
if (wrong > 0 || peak > 300 * 1024 * 1024) process.exitCode = 1;
