/** The message of anything thrown: an Error's own, else its string form (a thrown string, a number). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
