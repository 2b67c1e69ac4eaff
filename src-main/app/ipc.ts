// The Electron transport, main side: one `hearth:<request>` channel per contract request and
// every contract event on `hearth:event`, only for the app's own page.
import { ipcMain, type WebContents } from 'electron';
import { eventNames, requestNames, type HearthRequests } from '../core/api/contract.js';
import { requestArguments } from '../core/api/request-arguments.js';
import type { HearthHost, TransportHost } from '../core/api/host.js';
import { isTrustedSender } from './security.js';

/** The channel the preload listens on for `{ event, payload }` messages. */
export const eventChannel = 'hearth:event';

/** The channel of one request. */
export function requestChannel(name: keyof HearthRequests): string {
  return `hearth:${name}`;
}


/** Answer every request from the app page with `host` (which may still be starting); returns the undo. */
export function registerRequestHandlers(host: Promise<TransportHost>, appUrl: string): () => void {
  for (const name of requestNames) {
    ipcMain.handle(requestChannel(name), async (event, ...args: unknown[]) => {
      // Drop anything a foreign page (a navigation we failed to stop, an iframe) might send.
      if (!isTrustedSender(event.senderFrame?.url, appUrl)) throw new Error('Refused: not the Hearth window');
      const decoded = requestArguments[name](args);
      const { requests } = (await host).over('electron-ipc');
      return (requests[name] as (...a: unknown[]) => Promise<unknown>).apply(requests, decoded);
    });
  }
  return () => {
    for (const name of requestNames) ipcMain.removeHandler(requestChannel(name));
  };
}

/** Send every contract event to the pages `targets` returns that show the app; returns the undo. */
export function forwardEvents(host: TransportHost, targets: () => WebContents[], appUrl: string): () => void {
  const ipc: HearthHost = host.over('electron-ipc');
  const offs = eventNames.map((event) =>
    ipc.on(event, (payload) => {
      for (const contents of targets()) {
        if (!contents.isDestroyed() && isTrustedSender(contents.getURL(), appUrl)) contents.send(eventChannel, { event, payload });
      }
    }),
  );
  return () => {
    for (const off of offs) off();
  };
}
