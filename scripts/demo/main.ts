/**
 * `npm run demo [-- --once] [-- --dir DIR]`: bring up a local deployment (Redis when none
 * answers, Prosody, Synapse, Postfix, Parley), play the scripted conversation with real clients,
 * print the transcript with each hop's latency, then (without --once) stay up and print how to
 * log in with your own clients until Ctrl-C, which stops everything the demo started.
 * Exit code: 0 when every step of the conversation succeeded, 1 otherwise.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { registerUser } from "../../test/harness/synapse/synapse.js";
import { join } from "node:path";
import { startDeployment, type DemoDeployment } from "./deployment.js";
import { Conversation, type StepResult } from "./conversation.js";
import { DEMO } from "./files.js";
import { errorMessage } from "../../src/errors/message.js";

/**
 * The transcript goes straight to stdout; console output of libraries (matrix-js-sdk's call
 * session logger prints on every room it sees) is dropped so the transcript stays readable.
 */
const say = (line: string) => { process.stdout.write(`${line}\n`); };
for (const m of ["log", "info", "debug", "warn"] as const) console[m] = () => undefined;

const stamp = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s`;

function summary(results: readonly StepResult[], wallMs: number): string[] {
  const ok = results.filter((r) => r.ok).length;
  const lines = ["", `Conversation: ${ok} of ${results.length} steps as expected; demo wall time ${(wallMs / 1000).toFixed(1)} s.`];
  const hops = results.filter((r) => r.ok && r.ms !== undefined);
  if (hops.length > 0) lines.push(`Hop latencies (ms): ${hops.map((r) => r.ms).join(", ")}`);
  const networks = new Set(results.filter((r) => r.ok).map((r) => r.network));
  lines.push(`Networks heard from: ${[...networks].sort().join(", ") || "none"}`);
  return lines;
}

/** The last warnings and errors in Parley's log, to explain a failed step. */
function parleyWarnings(logFile: string): string[] {
  let lines: string[];
  try { lines = readFileSync(logFile, "utf8").trim().split("\n"); } catch { return []; }
  const warn = lines.map((l) => { try { return JSON.parse(l) as { level: number; msg?: string; module?: string; err?: string }; } catch { return undefined; } })
    .filter((l) => l !== undefined && l.level >= 40).slice(-8);
  return warn.length === 0 ? [] : ["", `Parley's last warnings (${logFile}):`, ...warn.map((l) => `  ${l!.module ?? ""} ${l!.msg ?? ""}${l!.err ? `: ${l!.err}` : ""}`)];
}

function loginHelp(d: DemoDeployment, matrixGuest: { user: string; password: string }): string[] {
  const p = d.prosody;
  return [
    "",
    "The demo stays up. Log in with your own clients (everything listens on 127.0.0.1):",
    `  XMPP   server 127.0.0.1 port ${p.c2sPort} (no TLS, PLAIN), user alice@${p.userDomain}, password ${p.users.alice}`,
    `         write to bob@${DEMO.matrixServer} (Matrix) or carol@${DEMO.mailDomain} (mail).`,
    `  Matrix homeserver ${d.synapse.baseUrl}, user ${matrixGuest.user}, password ${matrixGuest.password}`,
    `         (more users: register_new_matrix_user -k ${d.synapse.registrationSharedSecret} ${d.synapse.baseUrl}),`,
    `         write to @_chat_alice:${DEMO.matrixServer} or @_mail_carol:${DEMO.matrixServer}.`,
    `  Mail   send through SMTP 127.0.0.1:${d.mta.smtpPort} (no auth) as anyone@${DEMO.mailDomain} to alice@${DEMO.xmppDomain}`,
    `         or bob@${DEMO.matrixServer}; ${DEMO.mailDomain}'s mail lands in the Maildir ${d.mta.maildirs[DEMO.mailDomain]}`,
    `         (e.g. mutt -f ${d.mta.maildirs[DEMO.mailDomain]}).`,
    `  Parley admin API http://127.0.0.1:${d.ports.admin} (token in ${join(d.dir, "admin-token")}); logs in ${join(d.dir, "parley.log")}`,
    `         npx parley doctor --config ${d.configPath}`,
    "",
    "Press Ctrl-C to stop everything the demo started.",
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { once: { type: "boolean", default: false }, dir: { type: "string", default: ".demo" } } });
  const t0 = performance.now();
  const progress = (line: string) => say(`[${stamp(t0)}] ${line}`);
  say("Parley demo: XMPP, Matrix and email as one network, all on this machine.\n");
  let deployment: DemoDeployment | undefined;
  let conversation: Conversation | undefined;
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    say("\nStopping everything the demo started …");
    await conversation?.stop().catch(() => undefined);
    await deployment?.stop();
    say("Stopped.");
  };
  // Ctrl-C reaches this process twice (the terminal signals the group, and tsx relays it):
  // the first signal starts the clean stop, later ones must not cut it short.
  let signals = 0;
  const interrupted = new Promise<void>((resolve) => {
    const on = () => {
      signals += 1;
      if (signals === 1) resolve();
      else if (signals === 3) say("Still stopping the peers … (a few seconds)");
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
  // A crash must not leave the peers running: stop them, then exit.
  process.once("uncaughtException", (e) => {
    say(`\nThe demo crashed: ${e.stack ?? e.message}`);
    void stopAll().finally(() => process.exit(1));
  });
  try {
    deployment = await Promise.race([startDeployment({ dir: values.dir, progress }), interrupted.then(() => undefined)]);
    if (!deployment) { await stopAll(); return 130; }
    progress(`Everything is up; configs and mappings in ${deployment.dir}`);
    say("\n── the conversation ──────────────────────────────────────────────");
    conversation = new Conversation(deployment, say);
    const results = await conversation.play();
    for (const l of summary(results, performance.now() - t0)) say(l);
    if (results.some((r) => !r.ok)) for (const l of parleyWarnings(join(deployment.dir, "parley.log"))) say(l);
    const allOk = results.length > 0 && results.every((r) => r.ok);
    if (values.once) {
      await stopAll();
      return allOk ? 0 : 1;
    }
    const password = randomBytes(6).toString("hex");
    const guest = await registerUser(deployment.synapse.baseUrl, deployment.synapse.registrationSharedSecret, "dana", { password });
    for (const l of loginHelp(deployment, { user: guest.userId, password })) say(l);
    await interrupted;
    await stopAll();
    return allOk ? 0 : 1;
  } catch (e) {
    say(`\nThe demo could not finish: ${errorMessage(e)}`);
    await stopAll();
    return 1;
  }
}

main().then((code) => process.exit(code), (e: unknown) => { say(String((e as Error).stack ?? e)); process.exit(1); });
