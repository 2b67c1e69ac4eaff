import type { Socket } from 'node:net';

/** How long a side may take to flush and close after its partner closed, before it is destroyed. */
const CLOSE_GRACE_MS = 2_000;

/**
 * Pipe two sockets into each other (with backpressure). When one fails the other is destroyed;
 * when one closes the other is ended (so bytes already written still arrive), then destroyed
 * if it lingers. Errors never go unhandled.
 */
export function joinSockets(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  follow(a, b);
  follow(b, a);
}

function follow(from: Socket, to: Socket): void {
  from.on('error', () => {
    from.destroy();
    to.destroy();
  });
  from.once('close', () => {
    if (to.destroyed) return;
    to.end();
    const timer = setTimeout(() => to.destroy(), CLOSE_GRACE_MS);
    to.once('close', () => clearTimeout(timer));
  });
}
