// The machine's status as the UI shows it: a first snapshot, then every pushed update.
import type { HearthApi, MachineStatus } from '../../../src-main/core/api/contract.js';

/** Live status of this machine; `start` it once, and call what it returns to stop. */
export class MachineStatusState {
  status = $state<MachineStatus | null>(null);
  /** Why the first snapshot could not be had, until an update arrives. */
  error = $state<string | null>(null);

  constructor(private readonly api: HearthApi) {}

  start(): () => void {
    let pushed = false;
    const off = this.api.on('status', (status) => {
      pushed = true;
      this.status = status;
      this.error = null;
    });
    this.api.getStatus().then(
      (status) => {
        // A pushed update is newer than a reply that was in flight when it came.
        if (!pushed) this.status = status;
      },
      (error: unknown) => {
        if (!pushed) this.error = error instanceof Error ? error.message : String(error);
      },
    );
    return off;
  }
}
