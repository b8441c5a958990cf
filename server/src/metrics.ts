import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance, so tests can run several servers in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'knot_' });
  const requests = new Counter({
    name: 'knot_http_requests_total',
    help: 'HTTP requests by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'knot_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'knot_graphql_subscriptions_open',
    help: 'GraphQL subscriptions currently open over WebSocket',
    registers: [registry],
  });
  const sockets = new Gauge({
    name: 'knot_websocket_connections_open',
    help: 'WebSocket connections currently open, by route',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  return { registry, requests, latency, subscriptions, sockets };
}

export type Metrics = ReturnType<typeof createMetrics>;
