import { test } from 'node:test';
import assert from 'node:assert/strict';
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
