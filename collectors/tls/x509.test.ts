import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import fc from 'fast-check';
import { signatureAlgorithm, splitSans, summarizeCertificate } from './x509.js';

function ed25519(): Buffer | null {
  const d = mkdtempSync(join(tmpdir(), 't14-x509-'));
  try {
    const o = (...a: string[]): void => void execFileSync('openssl', a, { cwd: d, stdio: 'ignore' });
    o('genpkey', '-algorithm', 'ED25519', '-out', 'k.pem');
    o('req', '-x509', '-key', 'k.pem', '-out', 'c.pem', '-subj', '/CN=ed.test/O=Comma\\, Inc', '-days', '1');
    o('x509', '-in', 'c.pem', '-outform', 'DER', '-out', 'c.der');
    return readFileSync(join(d, 'c.der'));
  } catch {
    return null;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}
const ED = ed25519();

it(
  'Ed25519 certificate: key type, bits, signature algorithm from the DER',
  { skip: ED === null ? 'no openssl' : false },
  () => {
    const c = summarizeCertificate(ED as Buffer);
    assert.equal(c?.keyType, 'ed25519');
    assert.equal(c?.keyBits, 256);
    assert.equal(c?.signatureAlgorithm, 'ED25519');
    assert.equal(signatureAlgorithm(ED as Buffer), 'ED25519');
    assert.deepEqual(c?.sans, []);
    assert.match(c?.subject ?? '', /^CN=ed\.test, O=/);
    assert.equal(summarizeCertificate(ED as Buffer), c, 'cached');
  },
);

it('subjectAltName lists split on ", " outside quotes', () => {
  assert.deepEqual(splitSans('DNS:a.test, DNS:b.test, IP Address:10.0.0.1'), [
    'DNS:a.test',
    'DNS:b.test',
    'IP Address:10.0.0.1',
  ]);
  assert.deepEqual(splitSans('DNS:a.test, URI:"x, y"'), ['DNS:a.test', 'URI:"x, y"']);
  assert.deepEqual(splitSans(undefined), []);
});

it('property: random and truncated DER never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
      const buf = Buffer.from(b);
      assert.equal(typeof signatureAlgorithm(buf), 'string');
      summarizeCertificate(buf);
      if (ED !== null) summarizeCertificate(ED.subarray(0, b.length % ED.length));
    }),
    { numRuns: 300 },
  );
});
