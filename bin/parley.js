#!/usr/bin/env node
// The `parley` command's entry: runs the compiled CLI when built (`npm run build`, production),
// else the TypeScript source through tsx (a development checkout after `npm install`).
import { existsSync } from "node:fs";

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(`parley needs Node.js 22 or newer; this is ${process.version}.\n` +
    "In a checkout, run it through npm (npm run parley -- …, npx parley …), which uses the pinned Node 24.");
  process.exit(1);
}
const compiled = new URL("../dist/bin/parley.js", import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("./parley.ts");
}
