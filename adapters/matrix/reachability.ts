/**
 * Whether the homeserver answers, from deliveries and a periodic probe (`GET /account/whoami`),
 * and a call when it answers again after it did not (catch-up.ts). Any HTTP answer below 500
 * counts as answering; a refused connection, a timeout or a 5xx (a homeserver starting) does not.
 */
import { MatrixError } from "matrix-js-sdk";

export class Reachability {
  private timer: NodeJS.Timeout | undefined;
  private probing = false;

  /** `ok`: the last known state (false until something answered). */
  constructor(private readonly probe: () => Promise<unknown>, private readonly onBack: () => void, public ok = false, private readonly onDown?: () => void) {}

  /** A call to the homeserver answered (true) or could not reach it (false). */
  mark(ok: boolean): void {
    const was = this.ok;
    this.ok = ok;
    if (ok && !was) this.onBack();
    if (!ok && was) this.onDown?.();
  }

  /** Probe every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    this.timer ??= setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async check(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await this.probe();
      this.mark(true);
    } catch (e) {
      this.mark(answered(e));
    } finally {
      this.probing = false;
    }
  }
}

/** The homeserver answered with an HTTP status (a refusal is an answer; a 5xx is not ready). */
export function answered(e: unknown): boolean {
  return e instanceof MatrixError && e.httpStatus !== undefined && e.httpStatus < 500;
}
