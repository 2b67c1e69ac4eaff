// A machine's self-signed certificate: one Node's TLS takes and a client can pin by its SHA-256
// fingerprint, kept for the user only, the same across starts, made again when it cannot be used.
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { loadOrMakeCertificate, makeSelfSignedCertificate } from '../../../src-main/core/net/self-signed-cert.js';
import { scratchDir } from '../../helpers/models.js';

const SUBJECT = { commonName: 'Hearth on test-box', altNames: ['test-box', 'localhost', '127.0.0.1'] };

describe('makeSelfSignedCertificate', () => {
  it('makes a certificate for its key that a TLS client pinning its fingerprint accepts', async () => {
    const made = await makeSelfSignedCertificate(SUBJECT);
    const cert = new X509Certificate(made.certPem);
    expect(cert.subject).toContain('CN=Hearth on test-box');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.subjectAltName).toBe('DNS:test-box, DNS:localhost, IP Address:127.0.0.1');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(made.fingerprint256).toBe(cert.fingerprint256);
    expect(made.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    // The fingerprint is the SHA-256 of the certificate's DER bytes: what a browser shows.
    expect(made.fingerprint256.replaceAll(':', '').toLowerCase()).toBe(createHash('sha256').update(cert.raw).digest('hex'));

    const server = https.createServer({ key: made.keyPem, cert: made.certPem }, (_req, res) => res.end('over TLS'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { body, seen } = await new Promise<{ body: string; seen: string }>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, ca: made.certPem, servername: 'localhost' }, (res) => {
          const seen = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ body, seen }));
        }).on('error', reject);
      });
      expect(body).toBe('over TLS');
      expect(seen).toBe(made.fingerprint256);
    } finally {
      server.close();
    }
  });

  it('makes a new key and certificate every time', async () => {
    const [a, b] = [await makeSelfSignedCertificate(SUBJECT), await makeSelfSignedCertificate(SUBJECT)];
    expect(a.fingerprint256).not.toBe(b.fingerprint256);
    expect(a.keyPem).not.toBe(b.keyPem);
  });
});

describe('loadOrMakeCertificate', () => {
  it('keeps the certificate for the user only and gives the same one, fingerprint and all, at the next start', async () => {
    const file = path.join(scratchDir('hearth-cert-'), 'data', 'web-ui-certificate.json');
    const first = await loadOrMakeCertificate(file, SUBJECT);
    if (process.platform !== 'win32') {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    }
    expect(await loadOrMakeCertificate(file, SUBJECT)).toEqual(first);
  });

  it('makes a new one when the kept one is damaged, for another name, of another key, or about to end', async () => {
    const dir = scratchDir('hearth-cert-');
    const file = path.join(dir, 'cert.json');
    const first = await loadOrMakeCertificate(file, SUBJECT);
    const kept = JSON.parse(await readFile(file, 'utf8')) as { key: string; cert: string };

    await writeFile(file, '{"version":1,"key":"-----BEGIN');
    const afterDamage = await loadOrMakeCertificate(file, SUBJECT);
    expect(afterDamage.fingerprint256).not.toBe(first.fingerprint256);

    expect((await loadOrMakeCertificate(file, { ...SUBJECT, commonName: 'Hearth on other-box' })).fingerprint256).not.toBe(afterDamage.fingerprint256);

    const other = await makeSelfSignedCertificate(SUBJECT);
    await writeFile(file, JSON.stringify({ version: 1, key: other.keyPem, cert: kept.cert }));
    expect((await loadOrMakeCertificate(file, SUBJECT)).fingerprint256).not.toBe(first.fingerprint256);

    const ending = path.join(dir, 'ending.json');
    const short = await loadOrMakeCertificate(ending, { ...SUBJECT, days: 3 });
    expect((await loadOrMakeCertificate(ending, SUBJECT)).fingerprint256).not.toBe(short.fingerprint256);
  });
});
