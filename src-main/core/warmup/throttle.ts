// A byte stream held to a rate, so a warm-up can leave room on the LAN for everything else.
import { setTimeout as sleep } from 'node:timers/promises';

/** The chunks of `source`, no faster than `bytesPerSecond` on average (unlimited when undefined). */
export async function* throttle(source: AsyncIterable<Buffer>, bytesPerSecond: number | undefined, signal?: AbortSignal, clock: () => number = performance.now.bind(performance)): AsyncGenerator<Buffer> {
  const start = clock();
  let sent = 0;
  for await (const chunk of source) {
    if (bytesPerSecond !== undefined) {
      // Wait until the bytes sent so far are "due": the average never runs above the rate.
      const due = start + (sent / bytesPerSecond) * 1000;
      const wait = due - clock();
      if (wait > 1) await sleep(wait, undefined, { signal });
    }
    sent += chunk.length;
    yield chunk;
  }
}
