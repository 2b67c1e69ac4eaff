import { describe, expect, it } from 'vitest';
import { clientBaseUrls, reachableApiUrl } from '../../src-renderer/src/lib/api-address.js';

describe('reachableApiUrl', () => {
  it('names the server the page came from when the API listens on every interface or loopback', () => {
    expect(reachableApiUrl('http://0.0.0.0:7437/v1', 'http://192.168.1.20:7434/?token=x')).toBe('http://192.168.1.20:7437/v1');
    expect(reachableApiUrl('http://127.0.0.1:7437/v1', 'http://box.lan:7434/')).toBe('http://box.lan:7437/v1');
  });

  it('keeps the address on the same machine, in the app window, and for an API on a real address', () => {
    expect(reachableApiUrl('http://127.0.0.1:7437/v1', 'http://127.0.0.1:7434/')).toBe('http://127.0.0.1:7437/v1');
    expect(reachableApiUrl('http://127.0.0.1:7437/v1', 'file:///opt/hearth/dist/renderer/index.html')).toBe('http://127.0.0.1:7437/v1');
    expect(reachableApiUrl('http://10.0.0.5:7437/v1', 'http://box.lan:7434/')).toBe('http://10.0.0.5:7437/v1');
  });
});

describe('clientBaseUrls', () => {
  it('gives OpenAI clients the /v1 address, and Anthropic\'s and Ollama\'s the server\'s root', () => {
    expect(clientBaseUrls('http://192.168.1.20:7437/v1')).toEqual({ openai: 'http://192.168.1.20:7437/v1', anthropic: 'http://192.168.1.20:7437', ollama: 'http://192.168.1.20:7437' });
  });
});
