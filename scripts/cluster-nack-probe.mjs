#!/usr/bin/env node
// Probe: three publishers (raw amqplib confirm channels, no retries) at a fixed rate into one
// quorum queue on a cluster of scripts/rabbitmq-cluster.sh, one kill -9 of the node holding the
// queue's leader, and per publisher the acks and nacks over time, the management API's view of
// the queue and, when a publisher's channel keeps nacking, each channel's quorum queue client
// state on that node (rabbitmqctl eval). Start the cluster with SEEDLINE_CLUSTER_MANAGEMENT=1 and
// the same SEEDLINE_CLUSTER_* variables as this script.
//
//   SEEDLINE_CLUSTER_NAME=… SEEDLINE_CLUSTER_PORT=… SEEDLINE_CLUSTER_DIR=… node scripts/cluster-nack-probe.mjs
//   env: VICTIM (1..3, default 3), RATE (per publisher, 250), KILL_AT (s, 5), AFTER (s after the kill, 40),
//        RECONNECT_MS (250, the seeder's first reconnect delay), RESTART (1: bring the victim back at the end),
//        REOPEN_AFTER (n > 0: open a new channel on the same connection after n nacks in a row)
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import amqp from 'amqplib';

const SCRIPT = fileURLToPath(new URL('./rabbitmq-cluster.sh', import.meta.url));
const BASE = Number(process.env.SEEDLINE_CLUSTER_PORT ?? 5700);
const VICTIM = Number(process.env.VICTIM ?? 3);
const RATE = Number(process.env.RATE ?? 250);
const KILL_AT = Number(process.env.KILL_AT ?? 5) * 1000;
const AFTER = Number(process.env.AFTER ?? 40) * 1000;
const RECONNECT_MS = Number(process.env.RECONNECT_MS ?? 250);
const REOPEN_AFTER = Number(process.env.REOPEN_AFTER ?? 0);
const url = (n) => `amqp://guest:guest@127.0.0.1:${BASE + n}`;
const api = (n) => `http://127.0.0.1:${BASE + n + 10000}/api`;
const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
const script = async (...args) => (await promisify(execFile)(SCRIPT, args, { timeout: 120_000 })).stdout;
const tag = randomBytes(3).toString('hex');
const exchange = `nk-x-${tag}`;
const queue = `nk-q-${tag}`;

const t0 = performance.now();
let killedAt = null;
const now = () => performance.now() - t0;
const rel = () => ((now() - (killedAt ?? now())) / 1000).toFixed(2);
const log = (line) => console.log(`[${(now() / 1000).toFixed(2)}s${killedAt !== null ? ` / kill+${rel()}s` : ''}] ${line}`);

async function queueView(n) {
  try {
    const res = await fetch(`${api(n)}/queues/%2F/${queue}?columns=leader,members,online,messages,state`, { headers: auth, signal: AbortSignal.timeout(2000) });
    if (!res.ok) return `http ${res.status}`;
    const q = await res.json();
    return `leader=${q.leader || "''"} online=${(q.online ?? []).map((m) => m.split('@')[0]).join(',')} members=${(q.members ?? []).length} messages=${q.messages}`;
  } catch (err) {
    return `unreachable (${err.message})`;
  }
}

/** Each local channel's quorum queue client state (rabbit_fifo_client) on node n. */
async function clientStates(n) {
  const expr =
    'W = fun Walk(T) when is_tuple(T), tuple_size(T) > 0, element(1, T) =:= rabbit_queue_type -> [T]; Walk(T) when is_tuple(T) -> lists:flatmap(Walk, tuple_to_list(T)); Walk(_) -> [] end, ' +
    `{ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<"${queue}">>)), ` +
    'io:format("record pid: ~p~n", [amqqueue:get_pid(Q)]), ' +
    '[io:format("channel ~p: ~P~n", [P, W(sys:get_state(P)), 40]) || P <- rabbit_channel:list_local()], ok.';
  return script('ctl', String(n), 'eval', expr).catch((err) => `eval failed: ${err.message}`);
}

class Publisher {
  node;
  channel = null;
  connection = null;
  reopening = false;
  channelSince = 0;
  seq = 0;
  acks = 0;
  nacks = 0;
  streak = 0;
  bins = new Map(); // second since the kill -> [acks, nacks]
  dumped = false;
  constructor(index) {
    this.index = index;
    this.node = index + 1;
  }
  bin(i) {
    const k = killedAt === null ? -1 : Math.floor((now() - killedAt) / 1000);
    const b = this.bins.get(k) ?? [0, 0];
    b[i]++;
    this.bins.set(k, b);
  }
  async connect() {
    for (;;) {
      try {
        const connection = await amqp.connect(url(this.node));
        const channel = await connection.createConfirmChannel();
        connection.on('error', () => undefined);
        channel.on('error', () => undefined);
        connection.on('close', () => this.lost());
        this.channel = channel;
        this.connection = connection;
        this.channelSince = now();
        this.streak = 0;
        log(`p${this.index}: channel open on node ${this.node}`);
        return;
      } catch (err) {
        log(`p${this.index}: node ${this.node}: ${err.message}`);
        this.node = (this.node % 3) + 1;
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
      }
    }
  }
  async reopen() {
    if (this.reopening || !this.connection) return;
    this.reopening = true;
    const old = this.channel;
    try {
      const channel = await this.connection.createConfirmChannel();
      channel.on('error', () => undefined);
      this.channel = channel;
      this.channelSince = now();
      log(`p${this.index}: ${this.streak} nacks in a row: new channel on node ${this.node}`);
      await old?.close().catch(() => undefined);
    } catch (err) {
      log(`p${this.index}: reopen failed: ${err.message}`);
    } finally {
      this.reopening = false;
    }
  }
  lost() {
    if (!this.channel) return;
    log(`p${this.index}: lost node ${this.node}`);
    this.channel = null;
    this.node = (this.node % 3) + 1;
    setTimeout(() => void this.connect(), RECONNECT_MS);
  }
  publish() {
    const channel = this.channel;
    if (!channel) return;
    const id = `${this.index}-${this.seq++}`;
    try {
      channel.publish(exchange, `k.${this.seq % 100}`, Buffer.from(id), { persistent: true, messageId: id }, (err) => {
        if (channel !== this.channel) return;
        if (err == null) {
          if (this.streak >= 10) log(`p${this.index}: first ack after ${this.streak} nacks in a row on this channel`);
          this.acks++;
          this.streak = 0;
          this.bin(0);
        } else {
          this.nacks++;
          this.streak++;
          this.bin(1);
          if (this.streak === 1) log(`p${this.index}: nack on node ${this.node} (channel ${((now() - this.channelSince) / 1000).toFixed(2)} s old)`);
          if (REOPEN_AFTER > 0 && this.streak % REOPEN_AFTER === 0) void this.reopen();
          if (this.streak === 50 && !this.dumped) {
            this.dumped = true;
            log(`p${this.index}: 50 nacks in a row on node ${this.node}; the queue clients of node ${this.node}'s channels:`);
            void clientStates(this.node).then((s) => log(s));
          }
        }
      });
    } catch {
      // closed channel: lost() reconnects
    }
  }
}

async function main() {
  const setup = await amqp.connect(url(VICTIM));
  const ch = await setup.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: true });
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.bindQueue(queue, exchange, '#');
  await setup.close();
  log(`queue ${queue} declared through node ${VICTIM}: ${await queueView(1)}`);

  const pubs = [0, 1, 2].map((i) => new Publisher(i));
  await Promise.all(pubs.map((p) => p.connect()));
  const tick = setInterval(() => {
    for (const p of pubs) for (let i = 0; i < RATE / 50; i++) p.publish();
  }, 20);
  let lastView = '';
  const watcher = setInterval(async () => {
    const view = await queueView(VICTIM === 1 ? 2 : 1);
    if (view !== lastView) log(`management API: ${view}`);
    lastView = view;
  }, 250);

  await new Promise((r) => setTimeout(r, KILL_AT));
  const pid = Number((await script('pid', String(VICTIM))).trim());
  process.kill(pid, 'SIGKILL');
  killedAt = now();
  log(`kill -9 of node ${VICTIM} (beam ${pid})`);
  await new Promise((r) => setTimeout(r, AFTER));
  clearInterval(tick);
  clearInterval(watcher);
  await new Promise((r) => setTimeout(r, 2000));

  console.log('\nper second after the kill, acks/nacks per publisher:');
  const seconds = Math.ceil(AFTER / 1000);
  for (let s = -1; s <= seconds; s++) {
    const cells = pubs.map((p) => (p.bins.get(s) ?? [0, 0]).join('/'));
    if (cells.some((c) => c !== '0/0')) console.log(`${s < 0 ? 'before' : `+${s}s`}\t${cells.join('\t')}`);
  }
  for (const p of pubs) console.log(`p${p.index}: node ${p.node}, ${p.acks} acks, ${p.nacks} nacks, ${p.streak} nacks in a row at the end`);
  const stuck = pubs.filter((p) => p.streak >= 50).map((p) => p.index);
  console.log(stuck.length ? `STUCK: ${stuck.map((i) => `p${i}`).join(', ')}` : 'no publisher stuck');
  if (process.env.RESTART === '1') await script('restart', String(VICTIM));
  const admin = await amqp.connect(url(VICTIM === 1 ? 2 : 1));
  const c = await admin.createChannel();
  await c.deleteQueue(queue).catch(() => undefined);
  await c.deleteExchange(exchange).catch(() => undefined);
  await admin.close().catch(() => undefined);
  process.exit(0);
}

await main();
