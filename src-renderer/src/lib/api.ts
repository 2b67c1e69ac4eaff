// The one place that knows which transport carries the contract; everything else imports `hearth`.
import type { HearthApi } from '../../../src-main/core/api/contract.js';
import { electronTransport } from './transport/electron.js';
import { createWebTransport } from './transport/web.js';

/** The Hearth API, over Electron IPC in the app window and over HTTP in a browser. */
export const hearth: HearthApi = electronTransport() ?? createWebTransport({ pageUrl: window.location.href });
