// A tiny HTTP endpoint for load-balancer health checks and the counters (never on the VXLAN port):
// `/metrics` serves the catalogue's Prometheus text (refresh() first updates read-on-demand gauges),
// anything else answers `ok`.
import { createServer, type Server } from 'node:http';
import type { Counters } from '../../contracts/counters.js';
import { metricsText } from './catalogue-views.js';

export function healthServer(port: number, counters: Counters, refresh: () => void = () => undefined): Server {
  const srv = createServer((req, res) => {
    if (req.url === '/metrics') {
      refresh();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metricsText(counters));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
  });
  srv.listen(port);
  return srv;
}
