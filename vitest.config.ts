import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    // Integration tests talk to a real PostgreSQL and RabbitMQ; give them room on a 2-core box.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two workers: the machine has two cores and the services need CPU too.
    maxWorkers: 2,
  },
});
