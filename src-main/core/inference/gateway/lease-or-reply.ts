// A request's hold on the ready llama-server, or the answer that says why there is none.
import type http from 'node:http';
import type { BackendLease, ModelSlot } from '../model-slot.js';
import { sendGatewayError, type ApiDialect } from './error-replies.js';
import { GatewayError } from './gateway-error.js';
import { unavailableError } from './unavailable.js';

/** Lease the ready backend for one request; without one, answer 503 with the reason (in `dialect`'s shape) and return null. */
export function leaseOrReply(slot: ModelSlot, res: http.ServerResponse, dialect: ApiDialect): BackendLease | null {
  const lease = slot.lease();
  if (lease) return lease;
  const status = slot.status;
  // Only an unloading slot can be "ready" without a lease, for an instant.
  const error = status.state === 'ready' ? new GatewayError(503, 'The model is being switched: retry in a moment.', 'model_unloading') : unavailableError(status);
  if (status.state === 'loading') res.setHeader('Retry-After', '2');
  sendGatewayError(res, dialect, error);
  return null;
}
