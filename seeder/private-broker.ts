/**
 * Test support: a private RabbitMQ node of our own (own node name, ports, data and log
 * directories in a temp dir, no plugins), so tests can stop, restart and raise alarms on a
 * broker without disturbing the shared one on 5672 that other test files use in parallel.
 * Needs the `rabbitmq-server` package (scripts/ensure-services.sh installs it).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';

const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
const START_TIMEOUT_MS = 60_000;

export interface PrivateBrokerOptions {
  /** e.g. '1MB': a watermark so low the memory alarm is raised at once (blocks publishers). */
  readonly memoryHighWatermark?: string;
}

export class PrivateBroker {
  private process: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    readonly nodeName: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** True when this machine has a RabbitMQ installation to start a node from. */
  static available(): boolean {
    return existsSync(join(RABBITMQ_BIN, 'rabbitmq-server'));
  }

  static async start(options: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
    const dir = await mkdtemp(join(tmpdir(), 'seedline-rabbit-'));
    const [port, distPort] = [await freePort(), await freePort()];
    const nodeName = `seedline-fault-${process.pid}-${port}@localhost`;
    const config = [`listeners.tcp.default = 127.0.0.1:${port}`, 'loopback_users = none'];
    if (options.memoryHighWatermark) config.push(`vm_memory_high_watermark.absolute = ${options.memoryHighWatermark}`);
    await writeFile(join(dir, 'rabbitmq.conf'), `${config.join('\n')}\n`);
    await writeFile(join(dir, 'enabled_plugins'), '[].\n');
    await writeFile(join(dir, 'rabbitmq-env.conf'), '');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // HOME holds the Erlang cookie that rabbitmqctl needs to talk to this node.
      HOME: dir,
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
    };
    const broker = new PrivateBroker(dir, nodeName, port, env);
    try {
      await broker.boot();
    } catch (err) {
      await broker.dispose();
      throw err;
    }
    return broker;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Starts the node again after `stop()` (same data directory: durable things survive). */
  async boot(): Promise<void> {
    if (this.process) return;
    const child = spawn(join(RABBITMQ_BIN, 'rabbitmq-server'), [], { env: this.env, cwd: this.dir, stdio: 'ignore', detached: true });
    this.process = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the private RabbitMQ node ${this.nodeName} exited while starting; see ${this.dir}/log`);
      if (await this.accepts()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the private RabbitMQ node ${this.nodeName} did not open port ${this.port} within ${START_TIMEOUT_MS / 1000} s`);
  }

  /** Stops the node: SIGTERM (a clean shutdown, as a service restart does), or SIGKILL (a crash). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.process;
    if (!child) return;
    // The whole process group: the start script, beam and its port helpers.
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
    const timeout = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 20_000);
    await this.exited;
    clearTimeout(timeout);
    // Port helpers (erl_child_setup, inet_gethost) may outlive beam by a moment.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    this.process = null;
  }

  /** Runs `rabbitmqctl -n <this node> <args>`. */
  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', this.nodeName, ...args], { env: this.env, timeout: 30_000 });
    return stdout;
  }

  /** Stops the node and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    await rm(this.dir, { recursive: true, force: true });
  }

  private async accepts(): Promise<boolean> {
    try {
      const connection = await amqp.connect(this.url, { timeout: 2_000 });
      await connection.close();
      return true;
    } catch {
      return false;
    }
  }
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
