import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ex } from '../testing.js';
import { classifyAuth, queryNames } from './classify.js';

const jwt = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"1"}').toString('base64url')}.c2ln`;

test('credential schemes, never values', () => {
  assert.deepEqual(classifyAuth(ex('GET', '/a')).schemes, ['none']);
  assert.deepEqual(classifyAuth(ex('GET', '/a', { headers: [['Authorization', 'Basic dTpw']] })).schemes, ['basic']);
  assert.deepEqual(classifyAuth(ex('GET', '/a', { headers: [['Authorization', 'Bearer opaque-token']] })).schemes, [
    'bearer',
  ]);
  assert.deepEqual(classifyAuth(ex('GET', '/a', { headers: [['authorization', `Bearer ${jwt}`]] })).schemes, ['jwt']);
  assert.deepEqual(classifyAuth(ex('GET', '/a', { headers: [['X-API-Key', 'k']] })).schemes, ['api_key_header']);
  assert.deepEqual(classifyAuth(ex('GET', '/a', { headers: [['Cookie', '_ga=1; JSESSIONID=abc']] })).schemes, [
    'cookie',
  ]);
  assert.deepEqual(classifyAuth(ex('GET', '/a', { headers: [['Cookie', '_ga=1; theme=dark']] })).schemes, ['none']);
  const q = classifyAuth(ex('GET', '/a?access_token=secret&x=1'));
  assert.deepEqual(q.schemes, ['api_key_query']);
  assert.deepEqual(q.inUrl, ['query:access_token']);
  const u = classifyAuth(ex('GET', 'http://user:pw@api.example.com/a'));
  assert.deepEqual(u.inUrl, ['userinfo']);
  assert.ok(!JSON.stringify(u).includes('pw'));
});

test('query names are decoded', () => {
  assert.deepEqual(queryNames('/a?b=1&c%5B0%5D=2&&d#frag'), ['b', 'c[0]', 'd']);
});

/** classifyAuth as first written (regex per header name, split cookies, a JWT decode per call): the reference. */
function reference(headers: [string, string][], target: string): { schemes: string[]; inUrl: string[] } {
  const HEADER_KEY =
    /^(x-)?(api[-_]?key|apikey|auth[-_]?token|access[-_]?token|token|key)$|-api-key$|^ocp-apim-subscription-key$|^x-functions-key$|^private-token$|^x-goog-api-key$|^x-amz-security-token$/;
  const SESSION_COOKIE = /sess|^sid$|[-_.]sid$|auth|token|jwt|^connect\.sid$|remember|login|^_?csrf/i;
  const isJwt = (token: string): boolean => {
    const parts = token.split('.');
    if (parts.length !== 3 || (parts[0] ?? '').length < 4) return false;
    try {
      const head = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8')) as unknown;
      return head !== null && typeof head === 'object' && 'alg' in head;
    } catch {
      return false;
    }
  };
  const schemes = new Set<string>();
  const inUrl = new Set<string>();
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (name === 'authorization' || name === 'proxy-authorization') {
      const sp = value.trim().indexOf(' ');
      const scheme = (sp < 0 ? value.trim() : value.trim().slice(0, sp)).toLowerCase();
      const cred =
        sp < 0
          ? ''
          : value
              .trim()
              .slice(sp + 1)
              .trim();
      if (scheme === 'basic') schemes.add('basic');
      else if (scheme === 'bearer') schemes.add(isJwt(cred) ? 'jwt' : 'bearer');
      else if (scheme === 'digest') schemes.add('digest');
      else if (scheme === 'token' || scheme === 'apikey' || scheme === 'api-key') schemes.add('api_key_header');
      else if (isJwt(value.trim())) schemes.add('jwt');
      else if (value.trim() !== '') schemes.add('other');
    } else if (HEADER_KEY.test(name) && value.trim() !== '') schemes.add('api_key_header');
    else if (name === 'cookie') {
      for (const c of value.split(';')) {
        const eq = c.indexOf('=');
        const cname = (eq < 0 ? c : c.slice(0, eq)).trim();
        if (cname !== '' && SESSION_COOKIE.test(cname)) schemes.add('cookie');
      }
    }
  }
  for (const n of queryNames(target)) {
    const lower = n.toLowerCase();
    if (
      ['api_key', 'apikey', 'api-key', 'key', 'access_token', 'token', 'auth_token', 'id_token', 'x-api-key'].includes(
        lower,
      )
    )
      schemes.add('api_key_query');
    if (
      ['api_key', 'apikey', 'api-key', 'key', 'access_token', 'token', 'auth_token', 'id_token', 'client_secret']
        .concat(['password', 'passwd', 'secret', 'sig', 'signature', 'x-api-key'])
        .includes(lower)
    )
      inUrl.add(`query:${lower}`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(target)) {
    inUrl.add('userinfo');
    schemes.add('basic');
  }
  if (schemes.size === 0) schemes.add('none');
  return { schemes: [...schemes].sort(), inUrl: [...inUrl].sort() };
}

test('classifyAuth (header roles, cached JWT headers, shared results) equals the reference', () => {
  const names = [
    'Authorization',
    'authorization',
    'Proxy-Authorization',
    'X-API-Key',
    'Cookie',
    'cookie',
    'Host',
    'Token',
  ];
  const values = [
    `Bearer ${jwt}`,
    `  bearer ${jwt}  `,
    jwt,
    'Bearer a.b.c',
    'Bearer abcd.e.f',
    'Bearer abcd.e.f.g',
    'Bearer',
    'Basic dTpw',
    'Digest x=1',
    'Token abc',
    '',
    '   ',
    'opaque',
    '_ga=1; JSESSIONID=abc',
    ' theme = dark ;remember_me=1;',
    ';;=x; a.sid=2',
    '_ga=1; theme=dark',
  ];
  const targets = ['/a', '/a?access_token=1&X=2', '/a?password=p#f', 'http://u:p@h.example/a', 'http://h/a?key=1'];
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...names), fc.constantFrom(...values)), { maxLength: 5 }),
      fc.constantFrom(...targets),
      (headers, target) => {
        const want = reference(headers, target);
        for (let i = 0; i < 2; i++) assert.deepEqual(classifyAuth(ex('GET', target, { headers })), want);
      },
    ),
    { numRuns: 2000 },
  );
});
