// How warm each peer's cache is for a plan, a pre-warm's progress and a load's cache use: what
// the warm-up produces and the UI and the CLI show.

/** How much of one peer's share of a plan its cache already holds (the cached tensors the plan puts on its devices). */
export interface PeerCoverage {
  peerId: string;
  /** The peer's name, for people. */
  peer: string;
  /** Cache entries (cached tensors, one per distinct content) the plan puts on this peer, and their bytes. */
  shareEntries: number;
  shareBytes: number;
  /** Of those, what its cache holds now. */
  cachedEntries: number;
  cachedBytes: number;
  /** When the peer last answered (ms since the epoch). */
  checkedAt: number;
  /** Why the peer could not be asked (then the cached figures are the last known), else null. */
  error: string | null;
}

/** Where one peer's warm-up stands. */
export type WarmupState = 'waiting' | 'filling' | 'fetching' | 'pushing' | 'done' | 'failed' | 'cancelled';

/** Progress of warming one peer's cache for a plan: its share, filled from its own disk, fetched from another member or pushed. */
export interface WarmupProgress {
  peerId: string;
  peer: string;
  state: WarmupState;
  /** Bytes of the share in the peer's cache (or on their way, for the entry being pushed), of the share's bytes. */
  bytesDone: number;
  bytesTotal: number;
  entriesDone: number;
  entriesTotal: number;
  /** Bytes moved per second lately (pushed, filled or fetched); 0 before anything moved. */
  bytesPerSecond: number;
  /** At that rate; null while unknown. */
  secondsLeft: number | null;
  /** How the bytes got there in this warm-up: over this machine's link to the peer, from the peer's own disk, from another member. */
  pushedBytes: number;
  filledBytes: number;
  fetchedBytes: number;
  /** What went wrong, with what to do, when state is "failed". */
  error: string | null;
}

/** One peer's cache while llama-server loads a model: entries served from its disk versus sent over the link. */
export interface LoadCacheProgress {
  peerId: string;
  peer: string;
  /** Cached tensors the plan puts on this peer. */
  entriesTotal: number;
  /** Cached tensors it loaded from its cache so far, and their bytes. */
  entriesFromCache: number;
  bytesFromCache: number;
  /** Cached tensors the coordinator had to send so far. */
  entriesTransferred: number;
  /** Bytes through this machine's RPC link to the peer since the load began (all tensors and protocol). */
  bytesTransferred: number;
}
