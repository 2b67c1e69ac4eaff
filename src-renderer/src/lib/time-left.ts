// Time left (or taken) for people: exact while short, rounder as it grows, like a download bar.

/** Seconds as "3 s", "2 min 5 s" or "about 1 h"; "unknown" when there is no estimate. */
export function formatTimeLeft(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'unknown';
  // Rounded up: "0 s left" while bytes are still moving would be a lie.
  const whole = Math.max(0, Math.ceil(seconds));
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) {
    const minutes = Math.floor(whole / 60);
    const rest = whole % 60;
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
  }
  return `about ${Math.round(whole / 3600)} h`;
}
