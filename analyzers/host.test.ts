import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiHost, type Exchange } from '../engine/contracts/exchange.js';
import { parseTarget } from './analysis.js';

const ex = (target: string, host: string | null): Exchange =>
  ({
    request: { target, headers: host === null ? [] : [['Host', host]] },
    server: { ip: '10.0.0.1', port: 8080 },
  }) as unknown as Exchange;

test('one API host: absolute-form authority, else Host, else server address; analyzers agree', () => {
  const cases: [string, string | null, string][] = [
    ['/a', 'API.Example.com:8443', 'api.example.com:8443'],
    ['http://user:pw@Other.example/x?y', 'api.example.com', 'other.example'],
    ['https://gw.example:9443/v1/items', null, 'gw.example:9443'],
    ['http:///x', 'h.example', 'h.example'],
    ['/b', null, '10.0.0.1:8080'],
    ['/c', '  ', '10.0.0.1:8080'],
  ];
  for (const [target, host, want] of cases) {
    assert.equal(apiHost(ex(target, host)), want, target);
    assert.equal(parseTarget(ex(target, host)).host, want, `analyzer: ${target}`);
  }
});
