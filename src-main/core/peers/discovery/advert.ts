// What a Hearth machine tells the LAN about itself over mDNS (DNS-SD TXT), and how a listener
// checks it. Anyone on the LAN can send anything: decoding validates every field and returns
// an error value, never throws. The advert is only a hint; trust comes from the secure link.
import net from 'node:net';

/** One compute device of a peer, as its worker reports it. */
export interface PeerDevice {
  name: string;
  description: string;
  totalBytes: number;
  freeBytes: number;
}

/** Everything a peer advertises: enough to decide whether to use it without connecting. */
export interface PeerAdvert {
  /** Stable machine id (a UUID). */
  id: string;
  name: string;
  /** Hearth version. */
  version: string;
  /** llama.cpp release tag, e.g. "v0.4.0". */
  release: string;
  /** ggml RPC protocol version, e.g. "6.0.0". */
  rpcProtocol: string;
  devices: PeerDevice[];
  cacheUsedBytes: number;
  cacheCapBytes: number;
  /** The cluster's public fingerprint (16 hex digits), never its key. */
  fingerprint: string;
  /** TCP port of the secure link. */
  linkPort: number;
}

/** What decides whether two machines can run one model together. */
export interface EngineVersions {
  release: string;
  rpcProtocol: string;
}

/** Version of the TXT layout below; a listener refuses layouts it does not know. */
export const ADVERT_FORMAT = '1';
/** Most devices one advert carries (a TXT record should stay under ~1300 bytes, RFC 6763 §6.2). */
export const MAX_DEVICES = 16;
/** Each TXT string is one length byte plus at most 255 bytes of "key=value" (RFC 6763 §6.1). */
export const MAX_TXT_STRING_BYTES = 255;
const TXT_BUDGET_BYTES = 1300;
const MAX_NAME_BYTES = 63;
const MAX_DEVICE_NAME_BYTES = 16;
const MAX_DESCRIPTION_BYTES = 32;
/** 1 PiB: more than any home-lab device or cache; anything larger is a lie or a bug. */
const MAX_BYTES = 2 ** 50;
const MAX_ADDRESSES = 16;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEMVER = /^\d{1,6}\.\d{1,6}\.\d{1,6}(?:[-+][0-9A-Za-z.-]{1,32})?$/;
const TAG = /^[0-9A-Za-z._-]{1,40}$/;
const PROTOCOL = /^\d{1,5}\.\d{1,5}\.\d{1,5}$/;
const FINGERPRINT = /^[0-9a-f]{16}$/;
const DIGITS = /^\d{1,16}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** The TXT key/value pairs for an advert; long texts are shortened so every limit holds. */
export function encodeAdvert(advert: PeerAdvert): Record<string, string> {
  const devices = advert.devices.slice(0, MAX_DEVICES);
  const txt: Record<string, string> = {
    txtvers: ADVERT_FORMAT,
    id: advert.id,
    name: shorten(clean(advert.name), MAX_NAME_BYTES) || 'Hearth',
    hearth: advert.version,
    llama: advert.release,
    rpc: advert.rpcProtocol,
    fp: advert.fingerprint,
    link: String(advert.linkPort),
    cache: `${advert.cacheUsedBytes}/${advert.cacheCapBytes}`,
    ndev: String(devices.length),
  };
  const deviceText = (device: PeerDevice, descriptionBytes: number) => {
    const name = shorten(clean(device.name).replace(/\|/g, '/'), MAX_DEVICE_NAME_BYTES) || '?';
    const description = shorten(clean(device.description).replace(/\|/g, '/'), descriptionBytes);
    return `${name}|${device.totalBytes}|${device.freeBytes}|${description}`;
  };
  // Descriptions are the only part worth shortening further to keep the whole record small.
  for (let descriptionBytes = MAX_DESCRIPTION_BYTES; descriptionBytes >= 0; descriptionBytes -= 4) {
    devices.forEach((device, index) => { txt[`dev${index}`] = deviceText(device, Math.max(0, descriptionBytes)); });
    if (txtBytes(txt) <= TXT_BUDGET_BYTES) break;
  }
  return txt;
}

/** Size of a TXT record on the wire: a length byte plus "key=value" per entry. */
export function txtBytes(txt: Record<string, string>): number {
  return Object.entries(txt).reduce((sum, [key, value]) => sum + 1 + Buffer.byteLength(`${key}=${value}`), 0);
}

/** Parse and check a TXT record heard from `addresses`; any doubt gives `{ error }`. */
export function decodeAdvert(txt: unknown, addresses: unknown): PeerAdvert | { error: string } {
  try {
    return parse(txt, addresses);
  } catch (error) {
    if (error instanceof AdvertError) return { error: error.message };
    return { error: `unreadable advert (${String(error)})` };
  }
}

/** Whether a peer can join this machine's models, and if not, why in words a user acts on. */
export function compatibility(advert: PeerAdvert, ours: EngineVersions): { compatible: true } | { compatible: false; reason: string } {
  const fix = 'install the same Hearth version on both machines';
  if (advert.release !== ours.release) {
    return { compatible: false, reason: `${advert.name} runs llama.cpp ${advert.release} (Hearth ${advert.version}) but this machine runs ${ours.release}: ${fix}.` };
  }
  if (advert.rpcProtocol !== ours.rpcProtocol) {
    return { compatible: false, reason: `${advert.name} speaks llama.cpp RPC protocol ${advert.rpcProtocol} but this machine speaks ${ours.rpcProtocol}: ${fix}.` };
  }
  return { compatible: true };
}

class AdvertError extends Error {}

function parse(txt: unknown, addresses: unknown): PeerAdvert {
  if (typeof txt !== 'object' || txt === null || Array.isArray(txt)) throw new AdvertError('the advert is not a key/value record');
  const record = txt as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value !== 'string') throw new AdvertError(`"${key}" is not text`);
    if (Buffer.byteLength(`${key}=${value}`) > MAX_TXT_STRING_BYTES) throw new AdvertError(`"${key}" is longer than a TXT string may be`);
  }
  const text = (key: string, pattern: RegExp, what: string): string => {
    const value = record[key];
    if (value === undefined) throw new AdvertError(`"${key}" is missing`);
    if (typeof value !== 'string' || !pattern.test(value)) throw new AdvertError(`"${key}" is not ${what}`);
    return value;
  };
  const format = text('txtvers', /^\d{1,3}$/, 'a format number');
  if (format !== ADVERT_FORMAT) throw new AdvertError(`advert format ${format} is not understood by this Hearth (it reads format ${ADVERT_FORMAT}): update Hearth`);

  checkAddresses(addresses);
  const name = text('name', /\S/, 'a name');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES || CONTROL.test(name)) throw new AdvertError('"name" is not a printable name of at most 63 bytes');
  const [used, cap] = text('cache', /^\d{1,16}\/\d{1,16}$/, 'used/cap bytes').split('/');
  const ndev = Number(text('ndev', /^\d{1,2}$/, 'a device count'));
  if (ndev > MAX_DEVICES) throw new AdvertError(`"ndev" says ${ndev} devices, more than ${MAX_DEVICES}`);
  const devices: PeerDevice[] = [];
  for (let index = 0; index < ndev; index++) devices.push(parseDevice(text(`dev${index}`, /^[^]+$/, 'a device'), `dev${index}`));

  return {
    id: text('id', UUID, 'a lowercase UUID'),
    name,
    version: text('hearth', SEMVER, 'a Hearth version'),
    release: text('llama', TAG, 'a llama.cpp release tag'),
    rpcProtocol: text('rpc', PROTOCOL, 'an RPC protocol version like 6.0.0'),
    devices,
    cacheUsedBytes: bytes(used!, 'cache'),
    cacheCapBytes: bytes(cap!, 'cache'),
    fingerprint: text('fp', FINGERPRINT, 'a 16-hex-digit cluster fingerprint'),
    linkPort: port(text('link', /^\d{1,5}$/, 'a port number')),
  };
}

function parseDevice(value: string, key: string): PeerDevice {
  const parts = value.split('|');
  if (parts.length !== 4) throw new AdvertError(`"${key}" is not name|total|free|description`);
  const [name, total, free, description] = parts as [string, string, string, string];
  if (!name || Buffer.byteLength(name) > MAX_DEVICE_NAME_BYTES || CONTROL.test(name)) throw new AdvertError(`"${key}" has a bad device name`);
  if (Buffer.byteLength(description) > MAX_DESCRIPTION_BYTES || CONTROL.test(description)) throw new AdvertError(`"${key}" has a bad description`);
  const totalBytes = bytes(total, key);
  const freeBytes = bytes(free, key);
  if (freeBytes > totalBytes) throw new AdvertError(`"${key}" claims more free memory than it has`);
  return { name, description, totalBytes, freeBytes };
}

function bytes(value: string, key: string): number {
  if (!DIGITS.test(value)) throw new AdvertError(`"${key}" has a byte count that is not a whole number`);
  const count = Number(value);
  if (count > MAX_BYTES) throw new AdvertError(`"${key}" claims an absurd size (${value} bytes)`);
  return count;
}

function port(value: string): number {
  const number = Number(value);
  if (number < 1 || number > 65535) throw new AdvertError(`"link" is not a port number 1-65535 (got ${value})`);
  return number;
}

// Addresses come from the mDNS packet, not the TXT record, but a liar controls those too.
function checkAddresses(addresses: unknown): void {
  if (!Array.isArray(addresses) || addresses.length === 0) throw new AdvertError('the peer has no address');
  if (addresses.length > MAX_ADDRESSES) throw new AdvertError(`the peer claims more than ${MAX_ADDRESSES} addresses`);
  for (const address of addresses) {
    if (typeof address !== 'string' || net.isIP(address) === 0) throw new AdvertError(`"${String(address).slice(0, 64)}" is not an IP address`);
  }
}

function clean(value: string): string {
  return value.replace(new RegExp(CONTROL.source, 'gu'), ' ').replace(/\s+/g, ' ').trim();
}

/** At most `maxBytes` of UTF-8, cut at a character boundary, with "…" when cut. */
function shorten(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  const ellipsis = '…';
  let out = '';
  for (const char of value) {
    if (Buffer.byteLength(out + char + ellipsis) > maxBytes) break;
    out += char;
  }
  return out ? out.trimEnd() + ellipsis : '';
}
