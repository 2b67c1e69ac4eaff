// The Electron transport, page side: the preload already exposes the whole contract.
import type { HearthApi } from '../../../../src-main/core/api/contract.js';

/** The API the preload put on `window.hearth`, or null outside the app window. */
export function electronTransport(): HearthApi | null {
  return window.hearth ?? null;
}
