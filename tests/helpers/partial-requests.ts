// Transport tests stand a small host behind the transport (the boundary under test): it answers
// the requests a test uses, and any other request fails loudly.
import type { HearthRequests } from '../../src-main/core/api/contract.js';
import { requestNames } from '../../src-main/core/api/contract.js';

export function partialRequests(given: Partial<HearthRequests>): HearthRequests {
  const all = Object.fromEntries(requestNames.map((name) => [name, async () => {
    throw new Error(`${name} is not answered in this test`);
  }]));
  return { ...all, ...given } as HearthRequests;
}
