import type { ServiceRunner } from './service-runner.js';

/** The machine and account a service is installed on; the CLI passes this process's, tests their own. */
export interface ServiceContext {
  runner: ServiceRunner;
  platform: NodeJS.Platform;
  /** -1 where there are no uids (Windows). */
  uid: number;
  username: string;
  home: string;
  env: Record<string, string | undefined>;
  /** Hearth's data folder (the Windows launcher is kept there). */
  dataDir: string;
}
