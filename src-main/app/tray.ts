// The tray icon that keeps the worker in reach with no window: its picture, tooltip and menu
// come from the pure functions of tray-state.ts and tray-menu.ts, redrawn on every event.
import { app, clipboard, Menu, nativeImage, Notification, Tray, type MenuItemConstructorOptions } from 'electron';
import type { MachineStatus, ModelSession, PairingCode } from '../core/api/contract.js';
import type { HearthHost } from '../core/api/host.js';
import { trayIconPath } from './tray-icons.js';
import { trayMenu, type TrayAction, type TrayMenuItem } from './tray-menu.js';
import { trayState, trayTooltip } from './tray-state.js';

/** What the tray needs: the core, and how to bring the window back. */
export interface TrayOptions {
  hearth: HearthHost;
  showWindow: () => void;
}

// What went wrong, in the words of a notification title.
const failures: Record<TrayAction, string> = {
  open: 'Hearth could not open its window',
  'pause-worker': 'Hearth could not pause the worker',
  'resume-worker': 'Hearth could not resume the worker',
  'copy-pairing-code': 'Hearth could not make a pairing code',
  quit: 'Hearth could not quit',
};

/** Put Hearth in the tray (or menu bar) until the returned undo runs. */
export async function createTray({ hearth, showWindow }: TrayOptions): Promise<() => void> {
  let status: MachineStatus = await hearth.requests.getStatus();
  // Until the core answers `getSession`, the tray shows the worker alone.
  let session: ModelSession | null = null;
  let pairing: PairingCode | null = null;
  let pairingTimer: NodeJS.Timeout | undefined;
  const tray = new Tray(nativeImage.createFromPath(trayIconPath(trayState(status))));
  const drawn = { icon: '', tooltip: '', menu: '' };

  // Status events come often (free memory changes): touch the tray only where something shows a change.
  const draw = (): void => {
    if (tray.isDestroyed()) return;
    const icon = trayIconPath(trayState(status, session));
    if (icon !== drawn.icon) tray.setImage(nativeImage.createFromPath((drawn.icon = icon)));
    const tooltip = trayTooltip(status, session);
    if (tooltip !== drawn.tooltip) tray.setToolTip((drawn.tooltip = tooltip));
    const items = trayMenu({ status, session, pairing, now: Date.now() });
    const menu = JSON.stringify(items);
    if (menu !== drawn.menu) {
      drawn.menu = menu;
      tray.setContextMenu(Menu.buildFromTemplate(items.map(toElectron)));
    }
  };

  const run = async (action: TrayAction): Promise<void> => {
    switch (action) {
      case 'open':
        return showWindow();
      case 'pause-worker':
      case 'resume-worker':
        await hearth.requests.updateSettings({ workerEnabled: action === 'resume-worker' });
        return;
      case 'copy-pairing-code': {
        pairing = await hearth.requests.showPairingCode();
        clipboard.writeText(pairing.code);
        clearTimeout(pairingTimer);
        // The menu line goes when the code does.
        pairingTimer = setTimeout(draw, Math.max(0, pairing.expiresAt - Date.now()) + 100);
        draw();
        const minutes = Math.max(1, Math.round((pairing.expiresAt - Date.now()) / 60_000));
        notify('Pairing code copied', `${pairing.code}: type it on the machine that joins, within ${minutes} min.`);
        return;
      }
      case 'quit':
        return app.quit();
    }
  };
  const dispatch = (action: TrayAction): void => {
    run(action).catch((error: unknown) => notify(failures[action], error instanceof Error ? error.message : String(error)));
  };

  function toElectron(item: TrayMenuItem): MenuItemConstructorOptions {
    if (item.type === 'separator') return { type: 'separator' };
    const { action } = item;
    return { label: item.label, enabled: item.enabled, click: action ? () => dispatch(action) : undefined };
  }

  const offs = [
    hearth.on('status', (next) => {
      status = next;
      draw();
    }),
    hearth.on('session', (next) => {
      session = next;
      draw();
    }),
  ];
  hearth.requests.getSession().then(
    (next) => {
      session ??= next;
      draw();
    },
    () => undefined,
  );
  // macOS opens the menu on a click; elsewhere a click is the quick way back to the window.
  if (process.platform !== 'darwin') tray.on('click', showWindow);
  draw();

  return () => {
    for (const off of offs) off();
    clearTimeout(pairingTimer);
    if (!tray.isDestroyed()) tray.destroy();
  };
}

// Notifications may be off or missing (a Linux desktop without a notification daemon): then the log says it.
function notify(title: string, body: string): void {
  if (Notification.isSupported()) new Notification({ title, body, silent: true }).show();
  else console.error(`${title}: ${body}`);
}
