// The web transport, page side: requests are `POST /api/<name>`, events arrive on one
// WebSocket at `/api/events` that comes back by itself after a drop.
import type { HearthApi, HearthEvents, HearthRequests, ModelSession, UploadProgress } from '../../../../src-main/core/api/contract.js';
import { requestNames } from '../../../../src-main/core/api/contract.js';
import { uploadFile } from './upload.js';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

type Listener = (payload: never) => void;

/** What the web transport needs from the page; tests and other hosts can pass their own. */
export interface WebTransportOptions {
  /** The page's address: the API is on the same origin; its `?token=` authorises the calls. */
  pageUrl: string;
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
}

/** A HearthApi that talks to `hearth serve` over HTTP and a WebSocket. */
export function createWebTransport(options: WebTransportOptions): HearthApi {
  const page = new URL(options.pageUrl);
  const token = page.searchParams.get('token');
  const doFetch = options.fetch ?? fetch.bind(globalThis);
  const listeners = new Map<string, Set<Listener>>();
  /** The events socket is opened on first use and from then on reopens itself after every drop. */
  let connected = false;
  let retryMs = FIRST_RETRY_MS;

  async function request(name: keyof HearthRequests, argument?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (argument !== undefined) headers['Content-Type'] = 'application/json';
    const init: RequestInit = { method: 'POST', headers, credentials: 'omit' };
    if (argument !== undefined) init.body = JSON.stringify(argument);
    const response = await doFetch(new URL(`/api/${name}`, page.origin), init);
    const body = (await response.json().catch(() => null)) as { error?: unknown } | null;
    if (!response.ok) {
      const detail = typeof body?.error === 'string' ? body.error : response.statusText;
      throw new Error(`${name} failed (${response.status}): ${detail}`);
    }
    return body;
  }

  function connect(): void {
    const url = new URL('/api/events', page.origin);
    url.protocol = page.protocol === 'https:' ? 'wss:' : 'ws:';
    if (token) url.searchParams.set('token', token);
    const Socket = options.WebSocket ?? globalThis.WebSocket;
    const ws = new Socket(url);
    ws.onopen = () => {
      retryMs = FIRST_RETRY_MS;
    };
    ws.onmessage = (message: MessageEvent) => dispatch(message.data);
    ws.onclose = () => {
      // Backoff keeps a restarting server from being hammered; the cap keeps recovery quick.
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  }

  function dispatch(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: { event?: unknown; payload?: unknown };
    try {
      message = JSON.parse(data) as typeof message;
    } catch {
      return;
    }
    if (typeof message.event !== 'string') return;
    for (const listener of listeners.get(message.event) ?? []) (listener as (payload: unknown) => void)(message.payload);
  }

  // A file dropped in a browser has no path on the server: open the copy in a model folder when
  // there is one (same name and size), else send it.
  async function openDroppedFile(file: File, onProgress?: (progress: UploadProgress) => void, signal?: AbortSignal): Promise<ModelSession> {
    const files = (await request('listModelFiles')) as Awaited<ReturnType<HearthRequests['listModelFiles']>>;
    const known = files.find((candidate) => candidate.fileName === file.name && candidate.bytes === file.size);
    const path = known?.path ?? (await uploadFile({ file, url: new URL('/api/upload', page.origin), token, onProgress, signal }));
    return (await request('openModel', { path })) as ModelSession;
  }

  const requests = Object.fromEntries(requestNames.map((name) => [name, (argument?: unknown) => request(name, argument)])) as unknown as HearthRequests;

  return {
    ...requests,
    openDroppedFile,
    on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      // Connect on first use: a page that never listens needs no socket.
      if (!connected) {
        connected = true;
        connect();
      }
      return () => {
        set.delete(listener);
      };
    },
  };
}
