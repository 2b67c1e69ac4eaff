// The Settings screen's state: a first snapshot, then every pushed update, and the changes.
import type { HearthApi, SettingsChange, SettingsView } from '../../../src-main/core/api/contract.js';
import { follow } from './follow.js';

/** Live settings; `start` it once, and call what it returns to stop. */
export class SettingsState {
  view = $state<SettingsView | null>(null);
  /** Why the first snapshot could not be had, until an update arrives. */
  error = $state<string | null>(null);

  constructor(private readonly api: HearthApi) {}

  start(): () => void {
    return follow(this.api, 'settings', () => this.api.getSettings(), (view) => {
      this.view = view;
      this.error = null;
    }, (message) => (this.error = message));
  }

  /** Change only the fields given; shows what the core kept. Throws the core's message when it refuses. */
  async update(change: SettingsChange): Promise<SettingsView> {
    const view = await this.api.updateSettings(change);
    this.view = view;
    return view;
  }

  /** Clear one model's cache entries, or all of them when `modelId` is null. */
  async clearCache(modelId: string | null): Promise<SettingsView> {
    const view = await this.api.clearCache({ modelId });
    this.view = view;
    return view;
  }
}
