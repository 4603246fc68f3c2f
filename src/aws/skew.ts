/**
 * The client's clock skew against AWS, learnt from the `Date` of an answer that refused a
 * signature as too old or too new, so that the next signature carries AWS's time.
 *
 * @module
 */

/** How far the local clock is from AWS's; one per client, corrected in place. */
export interface ClockSkew {
  /** Milliseconds to add to the local clock to get AWS time. */
  offsetMs: number;
}

/**
 * Corrects `skew` from an answer's `Date` header when the two clocks disagree by more than a
 * minute (a smaller gap cannot explain a refused signature); true when it changed, so that
 * the caller signs once more.
 */
export function learnSkew(skew: ClockSkew, date: string | null, now: number): boolean {
  const serverTime = Date.parse(date ?? "");
  if (!Number.isFinite(serverTime)) return false;
  const offset = serverTime - now;
  if (Math.abs(offset - skew.offsetMs) <= 60_000) return false;
  skew.offsetMs = offset;
  return true;
}
