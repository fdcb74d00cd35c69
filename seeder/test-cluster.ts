/**
 * Test support: a 3-node RabbitMQ cluster of the test's own, started and stopped through
 * scripts/rabbitmq-cluster.sh with a unique node-name prefix, port base and work directory, so
 * it runs beside the shared broker on 5672, the script's default cluster and other tests.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { PrivateBroker } from './private-broker.ts';

const SCRIPT = fileURLToPath(new URL('../scripts/rabbitmq-cluster.sh', import.meta.url));
export const CLUSTER_NODES = [1, 2, 3] as const;
export type ClusterNode = (typeof CLUSTER_NODES)[number];

export class TestCluster {
  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly base: number,
  ) {}

  static available(): boolean {
    return PrivateBroker.available();
  }

  static async start(): Promise<TestCluster> {
    const base = await freeBase();
    const name = `seedline-t${randomBytes(3).toString('hex')}-`;
    const env = { ...process.env, SEEDLINE_CLUSTER_NAME: name, SEEDLINE_CLUSTER_PORT: String(base), SEEDLINE_CLUSTER_DIR: join(tmpdir(), `${name}cluster`) };
    const cluster = new TestCluster(env, base);
    try {
      await cluster.script('start');
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The AMQP URL of node n (1..3). */
  url(n: ClusterNode): string {
    return `amqp://guest:guest@127.0.0.1:${this.base + n}`;
  }

  /** Every node's URL, comma-separated: what `seed --amqp-url` takes. */
  get urls(): string {
    return CLUSTER_NODES.map((n) => this.url(n)).join(',');
  }

  ctl(n: ClusterNode, ...args: string[]): Promise<string> {
    return this.script('ctl', String(n), ...args);
  }

  /** kill -9 of node n's Erlang VM: a crash, no clean shutdown. */
  async kill(n: ClusterNode): Promise<void> {
    const pid = Number((await this.script('pid', String(n))).trim());
    if (!(pid > 0)) throw new Error(`node ${n} has no running VM`);
    process.kill(pid, 'SIGKILL');
  }

  /** Brings node n back after stop_app or a kill. */
  async restart(n: ClusterNode): Promise<void> {
    await this.script('restart', String(n));
  }

  /**
   * Waits until every node takes a persistent message into quorum queue `probe` and confirms
   * it: a node that has just come back answers AMQP before its quorum queues accept writes
   * (publishes through it are nacked for a while), which a test must not mistake for a fault.
   */
  async awaitWritable(probe: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const n of CLUSTER_NODES) {
      for (;;) {
        const ok = await this.confirmOne(n, probe).catch(() => false);
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`node ${n} did not accept a write to quorum queue ${probe} within ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await this.ctl(1, '-q', 'purge_queue', probe);
  }

  private async confirmOne(n: ClusterNode, queue: string): Promise<boolean> {
    const connection = await amqp.connect(this.url(n));
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      channel.sendToQueue(queue, Buffer.from('probe'), { persistent: true });
      await channel.waitForConfirms();
      return true;
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    await this.script('stop');
  }

  private async script(...args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(SCRIPT, args, { env: this.env, timeout: 240_000 });
    return stdout;
  }
}

/** A port base B with B+1..B+3 (AMQP) and B+20001..B+20003 (distribution) free. */
async function freeBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 12_000 + 10 * Math.floor(Math.random() * 1_500);
    if (await portsFree([1, 2, 3, 20_001, 20_002, 20_003].map((d) => base + d))) return base;
  }
  throw new Error('found no free port range for a test cluster');
}

async function portsFree(ports: readonly number[]): Promise<boolean> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}
