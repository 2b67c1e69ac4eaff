// Kills the child processes still running when Hearth's own process exits, so a quit or a crash
// of Hearth does not leave a llama-server holding gigabytes of memory and a GPU.
//
// This covers every exit that runs Node's 'exit' handlers (a normal quit, process.exit, an
// uncaught exception). It cannot cover a SIGKILL of Hearth, nor a SIGTERM nobody handles: for
// those llama-server ends itself when its stdin closes (see llama-server-process.ts).
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let installed = false;

/** Kill `child` with SIGKILL if Hearth exits before it does; returns the function that forgets it. */
export function killOnExit(child: ChildProcess): () => void {
  if (!installed) {
    installed = true;
    // Only synchronous work runs in an 'exit' handler: kill() is a plain system call.
    process.on('exit', () => {
      for (const running of children) running.kill('SIGKILL');
    });
  }
  children.add(child);
  const forget = (): void => {
    children.delete(child);
  };
  child.once('exit', forget);
  return forget;
}
