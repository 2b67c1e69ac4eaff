import type { HearthEvents, HearthRequests } from './contract.js';

/** The core as a transport sees it: requests to answer and events to forward. */
export interface HearthHost {
  readonly requests: HearthRequests;
  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void): () => void;
}
