// Listening with the errors a person can act on, for every HTTP server Hearth runs (the UI's web
// transport, the OpenAI gateway).
import type http from 'node:http';
import { HearthError } from '../base/errors.js';

/** Listen on `host:port`; resolves with the port got (for port 0). `pickAnother` says how to choose another port, e.g. "with --port". */
export function listen(server: http.Server, host: string, port: number, pickAnother: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new HearthError('port-in-use', `Port ${port} on ${host} is already in use: pick another ${pickAnother}, or 0 for any free port.`, { cause: error }));
      else reject(new HearthError('listen-failed', `Cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
