// Who may use the OpenAI gateway: anyone on this machine when it listens on loopback, only
// holders of the API key when it listens where the LAN can reach it.
import { isLoopback } from '../net/host-check.js';
import { bearerToken, isSecret } from '../net/secrets.js';

/** Whether a gateway listening on `host` must demand an API key: any address but loopback. */
export function keyRequiredFor(host: string): boolean {
  // 0.0.0.0 and :: listen on every interface, the LAN's among them.
  return !isLoopback(host);
}

/** Whether an `Authorization` header carries `Bearer <key>`, compared in constant time. */
export function hasApiKey(authorization: string | undefined, key: string): boolean {
  return isSecret(bearerToken(authorization), key);
}
