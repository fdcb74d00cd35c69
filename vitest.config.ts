import { defineConfig } from 'vitest/config';

/**
 * The 3-node RabbitMQ cluster test kills a node and waits for quorum queues to elect a new
 * leader; with the rest of the suite on the same two cores, the Erlang VMs were starved and
 * seeders failed (seen in full runs only, never alone: a slow election left a failed-over
 * seeder's new channel with a quorum queue client naming the dead leader — seeder/README.md,
 * "A node lost mid-run"). It runs as its own group, after everything else, with the machine to itself.
 */
const CLUSTER_TESTS = ['seeder/cluster.test.ts'];

export default defineConfig({
  test: {
    exclude: ['node_modules/**', 'dist/**'],
    // Integration tests talk to a real PostgreSQL and RabbitMQ; give them room on a 2-core box.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two workers: the machine has two cores and the services need CPU too.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'suite', include: ['**/*.test.ts'], exclude: ['node_modules/**', 'dist/**', ...CLUSTER_TESTS], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'cluster', include: CLUSTER_TESTS, sequence: { groupOrder: 1 } } },
    ],
  },
});
