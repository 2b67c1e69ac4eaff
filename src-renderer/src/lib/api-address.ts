// The API's address as the person looking at it can use it. The core reports the address it
// listens on; when that is loopback or every interface (`hearth serve --host 0.0.0.0`) and this
// page came from another machine, the machine the page came from is the one to reach.
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '0.0.0.0', '[::]']);

/** `baseUrl` with its host replaced by the page's when the API is local to the server and the page is not. */
export function reachableApiUrl(baseUrl: string, pageUrl: string): string {
  let api: URL;
  let page: URL;
  try {
    api = new URL(baseUrl);
    page = new URL(pageUrl);
  } catch {
    return baseUrl;
  }
  if (!LOCAL_HOSTS.has(api.hostname) || page.hostname === '' || LOCAL_HOSTS.has(page.hostname)) return baseUrl;
  api.hostname = page.hostname;
  return api.href;
}

/** The base URL each kind of client takes: OpenAI's SDKs the `/v1` address, Anthropic's SDK and Ollama's clients the server's root. */
export function clientBaseUrls(baseUrl: string): { openai: string; anthropic: string; ollama: string } {
  const root = baseUrl.replace(/\/v1\/?$/, '');
  return { openai: baseUrl, anthropic: root, ollama: root };
}
