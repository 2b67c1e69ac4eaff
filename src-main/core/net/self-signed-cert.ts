// A machine's own TLS identity without any authority: a key pair and a self-signed X.509
// certificate, kept in a file readable by the user only, and the SHA-256 fingerprint by which
// someone who sees it on the machine itself can recognise it elsewhere (as Syncthing's device IDs
// work). The LAN UI of `hearth serve --host` uses one; anything else that needs a certificate of
// its own (the secure link) can make one the same way. Node makes and uses the keys (RSA, OpenSSL);
// node-forge only writes the certificate, which Node cannot.
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { HearthError } from '../base/errors.js';
import { writeFileAtomic } from '../base/write-atomic.js';

/** A key and its certificate, as PEM, with the certificate's SHA-256 fingerprint. */
export interface SelfSignedCertificate {
  keyPem: string;
  certPem: string;
  /** SHA-256 of the certificate's DER bytes, as Node and browsers print it: 32 pairs of upper-case hex digits joined by ":". */
  fingerprint256: string;
}

/** What the certificate says. */
export interface CertificateSubject {
  /** Its subject's and issuer's common name, e.g. "Hearth on box-7". */
  commonName: string;
  /** Host names and IP addresses it is for (subjectAltName); a browser still asks the user, it is self-signed. */
  altNames?: readonly string[];
  /** Valid this long from a day ago (default ten years: a new certificate is a new fingerprint to check). */
  days?: number;
}

const DEFAULT_DAYS = 3650;
const RSA_BITS = 2048;
/** A certificate this close to its end is made again before it is used. */
const RENEW_BEFORE_MS = 7 * 24 * 3600_000;

/** Make a fresh RSA key pair and a certificate for it, signed by itself. */
export async function makeSelfSignedCertificate(subject: CertificateSubject, now: Date = new Date()): Promise<SelfSignedCertificate> {
  // Loaded only here: a command that needs no certificate never pays for node-forge.
  const { default: forge } = await import('node-forge');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: RSA_BITS });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  // A positive serial of 16 random bytes (RFC 5280 4.1.2.2: at most 20 octets, positive).
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(now.getTime() - 24 * 3600_000); // a peer's clock may run behind
  cert.validity.notAfter = new Date(now.getTime() + (subject.days ?? DEFAULT_DAYS) * 24 * 3600_000);
  const name = [{ name: 'commonName', value: subject.commonName }, { name: 'organizationName', value: 'Hearth' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: (subject.altNames ?? []).map((alt) => (net.isIP(alt) ? { type: 7, ip: alt } : { type: 2, value: alt })) },
  ]);
  cert.sign(key, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { keyPem, certPem, fingerprint256: new X509Certificate(certPem).fingerprint256 };
}

/**
 * The certificate kept at `file`, or a new one made and kept there (readable by the user only)
 * when there is none, it cannot be read back, it is for another common name, or it ends within a
 * week. The same certificate across starts keeps the fingerprint a user has checked.
 */
export async function loadOrMakeCertificate(file: string, subject: CertificateSubject, now: Date = new Date()): Promise<SelfSignedCertificate> {
  const kept = await readKept(file, subject.commonName, now);
  if (kept) return kept;
  const made = await makeSelfSignedCertificate(subject, now);
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, `${JSON.stringify({ version: 1, key: made.keyPem, cert: made.certPem }, null, 2)}\n`, { sync: true, mode: 0o600 });
  } catch (error) {
    throw new HearthError('certificate-write', `Could not keep this machine's TLS certificate in ${file} (${(error as Error).message}): check that Hearth's data folder is writable.`, { cause: error });
  }
  return made;
}

/** The kept certificate if it is whole, its key is its own, it names `commonName` and it is good for a while yet. */
async function readKept(file: string, commonName: string, now: Date): Promise<SelfSignedCertificate | undefined> {
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as { version?: unknown; key?: unknown; cert?: unknown };
    if (stored.version !== 1 || typeof stored.key !== 'string' || typeof stored.cert !== 'string') return undefined;
    const cert = new X509Certificate(stored.cert);
    const fresh = Date.parse(cert.validTo) - now.getTime() > RENEW_BEFORE_MS && Date.parse(cert.validFrom) <= now.getTime();
    if (!fresh || !cert.subject.split('\n').includes(`CN=${commonName}`) || !cert.checkPrivateKey(createPrivateKey(stored.key))) return undefined;
    return { keyPem: stored.key, certPem: stored.cert, fingerprint256: cert.fingerprint256 };
  } catch {
    return undefined; // missing, damaged or foreign: made again
  }
}
