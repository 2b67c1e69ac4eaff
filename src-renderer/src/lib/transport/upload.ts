// Sending a model file from the browser to `hearth serve` (PUT /api/upload), with progress and
// cancel. XMLHttpRequest, because fetch still cannot report upload progress.
import type { UploadProgress } from '../../../../src-main/core/api/contract.js';

// The part of XMLHttpRequest used here, so this file also type-checks with the Node tests (no DOM library there).
interface Xhr {
  open(method: string, url: URL): void;
  setRequestHeader(name: string, value: string): void;
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  abort(): void;
  send(body: Blob): void;
  readonly status: number;
  readonly statusText: string;
  readonly responseText: string;
}

export interface UploadRequest {
  file: File;
  url: URL;
  token: string | null;
  onProgress?: ((progress: UploadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Upload `file`; resolves with its path on the server. */
export function uploadFile(request: UploadRequest): Promise<string> {
  const { file, signal } = request;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('Upload cancelled.'));
    const url = new URL(request.url);
    url.searchParams.set('name', file.name);
    const xhr = new (globalThis as unknown as { XMLHttpRequest: new () => Xhr }).XMLHttpRequest();
    xhr.open('PUT', url);
    if (request.token) xhr.setRequestHeader('Authorization', `Bearer ${request.token}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (event) => request.onProgress?.({ bytesSent: event.loaded, bytesTotal: event.lengthComputable ? event.total : file.size });
    xhr.onload = () => {
      const body = parseAnswer(xhr.responseText);
      if (xhr.status === 201 && typeof body?.path === 'string') return resolve(body.path);
      reject(new Error(typeof body?.error === 'string' ? body.error : `The upload failed (${xhr.status} ${xhr.statusText}).`));
    };
    xhr.onerror = () => reject(new Error('The upload failed: the connection to Hearth was lost. Check that hearth serve still runs, then drop the file again.'));
    xhr.onabort = () => reject(new Error('Upload cancelled.'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

function parseAnswer(text: string): { path?: unknown; error?: unknown } | null {
  try {
    return JSON.parse(text) as { path?: unknown; error?: unknown } | null;
  } catch {
    return null; // not JSON: the caller reports the status instead
  }
}
