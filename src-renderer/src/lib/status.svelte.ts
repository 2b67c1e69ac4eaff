// The machine's status as the UI shows it: a first snapshot, then every pushed update.
import type { HearthApi, MachineStatus } from '../../../src-main/core/api/contract.js';
import { follow } from './follow.js';

/** Live status of this machine; `start` it once, and call what it returns to stop. */
export class MachineStatusState {
  status = $state<MachineStatus | null>(null);
  /** Why the first snapshot could not be had, until an update arrives. */
  error = $state<string | null>(null);

  constructor(private readonly api: HearthApi) {}

  start(): () => void {
    return follow(this.api, 'status', () => this.api.getStatus(), (status) => {
      this.status = status;
      this.error = null;
    }, (message) => (this.error = message));
  }
}
