/**
 * Wait for a condition, bounded: poll `get` until it yields a value, or fail naming what was
 * awaited. Tests wait on conditions, never sleep for them.
 */
export async function until<T>(what: string, get: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
