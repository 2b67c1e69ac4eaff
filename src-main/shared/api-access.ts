/** How other tools reach the loaded model. */
export interface ApiAccess {
  /** Ends in `/v1`. */
  baseUrl: string;
  /** Bearer key; null on loopback. */
  apiKey: string | null;
  modelId: string;
}
