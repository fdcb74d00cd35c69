import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SeedlineError, messageOf } from '../../common/errors.ts';

export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface MetricsEndpoint {
  /** e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `render()` at GET /metrics for Prometheus to scrape during a long run. Listening
 * fails before anything is published, with an error naming the option (port in use, no right).
 */
export async function serveMetrics(port: number, host: string, render: () => string): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('seedline seed serves its metrics at /metrics\n');
      return;
    }
    let body: string;
    try {
      body = render();
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot render the metrics: ${messageOf(err)}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new SeedlineError('USAGE', `cannot serve metrics on ${host}:${port}: ${messageOf(err)}`, {
          option: '--metrics-port',
          hint: (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'choose another --metrics-port; something listens on this one' : 'check --metrics-host and --metrics-port',
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
