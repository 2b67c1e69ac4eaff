import type { HearthApi } from '../../src-main/core/api/contract.js';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser. */
    hearth?: HearthApi;
  }
}

export {};
