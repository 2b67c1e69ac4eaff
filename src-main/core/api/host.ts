import type { HearthEvents, HearthRequests } from './contract.js';

/** The core's requests to answer and events to forward, as one caller may have them. */
export interface HearthHost {
  readonly requests: HearthRequests;
  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void): () => void;
}

/**
 * How a request reached the core, as the transport that carried it knows it (never as the request
 * says): the Electron window's IPC, HTTP on loopback, HTTPS, or plain HTTP across the LAN, which
 * anyone on the LAN can read and whose token anyone who read it can replay.
 */
export type TransportKind = 'electron-ipc' | 'loopback-http' | 'https' | 'lan-http';

/** The core as a transport sees it: only through `over`, so no transport can reach it without saying how it carries requests. */
export interface TransportHost {
  /** The requests and events a transport of this kind may have (see transport-guard.ts). */
  over(kind: TransportKind): HearthHost;
}
