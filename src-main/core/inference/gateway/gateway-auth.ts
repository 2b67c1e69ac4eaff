// Who may use the gateway: anyone on this machine when it listens on loopback, only holders of
// the API key when it listens where the LAN can reach it.
import type http from 'node:http';
import { isLoopback } from '../../net/host-check.js';
import { bearerToken, isSecret } from '../../net/secrets.js';

/** Whether a gateway listening on `host` must demand an API key: any address but loopback. */
export function keyRequiredFor(host: string): boolean {
  // 0.0.0.0 and :: listen on every interface, the LAN's among them.
  return !isLoopback(host);
}

/**
 * Whether a request carries the key, compared in constant time: as `Authorization: Bearer <key>`
 * (OpenAI's and Ollama's clients), or as `x-api-key: <key>` (Anthropic's SDK sends its key so).
 */
export function hasApiKey(headers: http.IncomingHttpHeaders, key: string): boolean {
  const apiKeyHeader = headers['x-api-key'];
  const given = bearerToken(headers.authorization) ?? (typeof apiKeyHeader === 'string' ? apiKeyHeader : null);
  return isSecret(given, key);
}
