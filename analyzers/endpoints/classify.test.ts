import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifySegment, paramNameFromParent, singular, categoryOf } from './classify.js';

test('value classes', () => {
  const cases: [string, string][] = [
    ['12345', 'integer'],
    ['123e4567-e89b-12d3-a456-426614174000', 'uuid'],
    ['507f1f77bcf86cd799439011', 'objectid'],
    ['d41d8cd98f00b204e9800998ecf8427e', 'hex'],
    ['deadbeef01', 'hex'],
    ['2024-03-01T10:00:00Z', 'date'],
    ['jane.doe%40example.com', 'email'],
    ['CH1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d', 'token'],
    ['orders', 'word'],
    ['deadbeef', 'word'], // 8 hex letters without a digit: a word, not a hash
    ['v1', 'version'],
    ['v2.1', 'version'],
    ['1.0', 'version'],
    ['2010-04-01', 'date'],
    ['v1.41', 'version'],
    ['me', 'reserved'],
    ['search', 'reserved'],
    ['health', 'reserved'],
  ];
  for (const [seg, cls] of cases) assert.equal(classifySegment(seg), cls, seg);
});

test('parameter names from the parent segment', () => {
  assert.equal(singular('categories'), 'category');
  assert.equal(singular('addresses'), 'address');
  assert.equal(singular('statuses'), 'status');
  assert.equal(paramNameFromParent('users'), 'userId');
  assert.equal(paramNameFromParent('line-items'), 'lineItemId');
  assert.equal(paramNameFromParent('42'), null);
});

test('categories', () => {
  assert.equal(categoryOf(['static', 'app.js'], 'GET', false), 'static');
  assert.equal(categoryOf(['healthz'], 'GET', false), 'health');
  assert.equal(categoryOf(['api', 'users'], 'OPTIONS', true), 'preflight');
  assert.equal(categoryOf(['api', 'users'], 'OPTIONS', false), 'api');
});
