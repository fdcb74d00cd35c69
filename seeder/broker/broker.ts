import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { SeedlineError, messageOf } from '../../common/errors.ts';
import { VERSION } from '../../common/version.ts';

export const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const DEFAULT_EXCHANGE = 'seedline';

/** How long opening the TCP connection may take before we give up (ms). */
const CONNECT_TIMEOUT_MS = 10_000;

/** The URL (or comma-separated list) with passwords replaced, for messages and reports. Never print the raw URL. */
export function redactUrl(url: string): string {
  if (url.includes(',')) return parseUrls(url).map(redactUrl).join(',');
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    // Not parseable: blank out anything between "//user:" and "@".
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/**
 * The broker URLs in `--amqp-url`: one, or a comma-separated list of the nodes of one cluster (a
 * comma inside a password must be written %2C). USAGE when there is none.
 */
export function parseUrls(text: string): string[] {
  const urls = text.split(',').map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0) throw new SeedlineError('USAGE', `--amqp-url names no broker, got '${text}'`, { option: '--amqp-url', hint: 'amqp://user:password@host:5672/vhost, or several separated by commas' });
  return urls;
}

/**
 * Connects to the first URL of the list that answers, trying them in order (amqplib takes one
 * URL per connection, so failover is ours). A refusal of the credentials or vhost is thrown
 * at once: another node of the same cluster would refuse too. Returns the index connected to.
 */
export async function connectFirst(urls: readonly string[], connectionName: string): Promise<{ connection: ChannelModel; index: number }> {
  const failures: SeedlineError[] = [];
  for (const [index, url] of urls.entries()) {
    try {
      return { connection: await connectBroker(url, connectionName), index };
    } catch (err) {
      if (!(err instanceof SeedlineError) || err.code !== 'BROKER_CONNECT' || urls.length === 1 || /ACCESS_REFUSED|virtual host/.test(err.message)) throw err;
      failures.push(err);
    }
  }
  throw new SeedlineError('BROKER_CONNECT', `cannot connect to any of the ${urls.length} RabbitMQ nodes in --amqp-url: ${failures.map((f) => f.message.replace(/^cannot connect to RabbitMQ at /, '')).join('; ')}`, {
    option: '--amqp-url',
    hint: 'start at least one node of the cluster, or check the hosts and ports in --amqp-url',
  });
}

/**
 * Opens a dedicated publishing connection. Every way it can fail becomes a BROKER_CONNECT
 * (or USAGE for a malformed URL) error that says what to do.
 */
export async function connectBroker(url: string, connectionName: string): Promise<ChannelModel> {
  const where = redactUrl(url);
  try {
    return await amqp.connect(url, {
      timeout: CONNECT_TIMEOUT_MS,
      // Nagle off: amqplib would otherwise call setNoDelay(false), and a paced publish then
      // waits for the previous segment's ACK (p99 gap deviation 43 ms → 4.6 ms; seeder/RATES.md).
      noDelay: true,
      clientProperties: { connection_name: connectionName, product: 'seedline', version: VERSION },
    });
  } catch (err) {
    throw connectError(err, url, where);
  }
}

function connectError(err: unknown, url: string, where: string): SeedlineError {
  const errno = (err as NodeJS.ErrnoException).code;
  const text = scrub(messageOf(err), url);
  const fail = (what: string, hint: string) =>
    new SeedlineError('BROKER_CONNECT', `cannot connect to RabbitMQ at ${where}: ${what}`, { option: '--amqp-url', hint }, { cause: err });
  if (/Expected amqp: or amqps:/.test(text)) {
    return new SeedlineError('USAGE', `--amqp-url ${where} is not an AMQP URL (expected amqp://user:password@host:5672/vhost)`, {
      option: '--amqp-url',
    });
  }
  if (errno === 'ECONNREFUSED') {
    return fail('connection refused', 'start RabbitMQ (scripts/ensure-services.sh does it on Debian), or check the host and port in --amqp-url');
  }
  if (errno === 'ENOTFOUND' || errno === 'EAI_AGAIN') {
    return fail('unknown host', 'check the host name in --amqp-url');
  }
  if (errno === 'ETIMEDOUT' || errno === 'EHOSTUNREACH' || errno === 'ENETUNREACH' || /timeout/i.test(text)) {
    return fail(`no answer (${errno ?? 'timeout'})`, 'check the host and port in --amqp-url and that a firewall lets AMQP (5672) through');
  }
  if (/403|ACCESS.REFUSED/.test(text)) {
    return fail('the broker refused the user name or password (ACCESS_REFUSED)', 'check the user and password in --amqp-url');
  }
  if (/ConnectionOpenOk|530|NOT.ALLOWED/.test(text)) {
    return fail('the broker refused to open the virtual host', 'check the virtual host in --amqp-url (the path after the port) and that the user may access it');
  }
  if (errno === 'ECONNRESET' || /socket closed|EPIPE/i.test(text)) {
    return fail(`the connection was closed during the handshake (${text})`, 'check that --amqp-url points at an AMQP port, and amqps:// for TLS ports');
  }
  return fail(text, 'check --amqp-url and that RabbitMQ is running');
}

/** Declares the durable topic exchange; a conflicting existing exchange is BROKER_REFUSED. */
export async function declareExchange(channel: ConfirmChannel, exchange: string): Promise<void> {
  try {
    await channel.assertExchange(exchange, 'topic', { durable: true });
  } catch (err) {
    throw operationError(err, `declare the durable topic exchange '${exchange}'`, exchange);
  }
}

/** A channel operation the broker refused (406 exchange type mismatch, 403 permissions, ...). */
export function operationError(err: unknown, what: string, exchange: string): SeedlineError {
  const text = messageOf(err);
  const code = (err as { code?: unknown }).code;
  let hint = 'see the broker log for details';
  if (code === 406 || /PRECONDITION.FAILED/.test(text)) {
    const found = /current is '([^']+)'/.exec(text)?.[1];
    const detail = /inequivalent arg '([^']+)'/.exec(text)?.[1];
    return new SeedlineError(
      'BROKER_REFUSED',
      `RabbitMQ refused to ${what}: exchange '${exchange}' already exists with a different ${detail ?? 'definition'}` +
        (found ? ` (it is '${found}', seedline needs 'topic', durable)` : ''),
      { option: '--exchange', hint: `choose another --exchange, or delete the existing exchange '${exchange}' if nothing uses it` },
      { cause: err },
    );
  }
  if (code === 403 || /ACCESS.REFUSED/.test(text)) hint = `grant the user configure/write permission on '${exchange}', or use another --amqp-url user`;
  return new SeedlineError('BROKER_REFUSED', `RabbitMQ refused to ${what}: ${text}`, { option: '--exchange', hint }, { cause: err });
}

/** Removes the URL's password from a foreign message, in case a library echoed it. */
function scrub(text: string, url: string): string {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? text.split(password).join('***') : text;
  } catch {
    return text;
  }
}
