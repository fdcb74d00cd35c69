import { Socket } from 'node:net';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { isSeedlineError } from '../../common/errors.ts';
import { DEFAULT_URL, connectBroker, connectFirst, parseUrls, redactUrl } from './broker.ts';
import { freePort } from '../private-broker.ts';
import { runCommand } from '../../common/test-support.ts';
import { addBrokerUrlOption, brokerUrlOption } from './url-option.ts';

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('amqp://guest:guest@127.0.0.1:5672')).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(redactUrl('amqps://u:p%40ss@rabbit.example:5671/staging')).toBe('amqps://u:***@rabbit.example:5671/staging');
    expect(redactUrl('amqp://127.0.0.1')).toBe('amqp://127.0.0.1');
  });

  it('hides the password even in a URL it cannot parse', () => {
    expect(redactUrl('amqp://guest:sec ret@host:notaport')).not.toContain('sec ret');
  });
});

describe('connectBroker', () => {
  it("turns Nagle's algorithm off on the publishing socket (amqplib's default turns it on)", async () => {
    // The last setNoDelay() each socket got: what its TCP_NODELAY is now.
    const noDelay = new Map<Socket, boolean>();
    const original = Socket.prototype.setNoDelay;
    Socket.prototype.setNoDelay = function (this: Socket, enable?: boolean) {
      noDelay.set(this, enable ?? true);
      return original.call(this, enable);
    };
    try {
      const model = await connectBroker(DEFAULT_URL, 'seedline broker test');
      try {
        const socket = (model.connection as unknown as { stream: Socket }).stream;
        expect(socket).toBeInstanceOf(Socket);
        expect(noDelay.get(socket)).toBe(true);
      } finally {
        await model.close();
      }
    } finally {
      Socket.prototype.setNoDelay = original;
    }
  });
});

describe('a list of broker URLs', () => {
  it('parseUrls splits on commas and refuses an empty list; redactUrl hides every password', () => {
    expect(parseUrls('amqp://a:1@h1:5701, amqp://a:2@h2:5702,')).toEqual(['amqp://a:1@h1:5701', 'amqp://a:2@h2:5702']);
    expect(() => parseUrls(' , ')).toThrow(/--amqp-url names no broker/);
    expect(redactUrl('amqp://a:p1@h1:5701,amqp://a:p2@h2:5702')).toBe('amqp://a:***@h1:5701,amqp://a:***@h2:5702');
  });

  it('--amqp-url repeated is one comma-separated list; given once it replaces the default', () => {
    const urlOf = (args: string[]) => new Command().addOption(brokerUrlOption('x')).parse(args, { from: 'user' }).opts<{ amqpUrl: string }>().amqpUrl;
    expect(urlOf([])).toBe(DEFAULT_URL);
    expect(urlOf(['--amqp-url', 'amqp://h1'])).toBe('amqp://h1');
    expect(urlOf(['--amqp-url', 'amqp://h1', '--amqp-url', 'amqp://h2,amqp://h3'])).toBe('amqp://h1,amqp://h2,amqp://h3');
  });

  it('the old spelling --url still works for one release, repeated too, and says what to write instead', async () => {
    let seen = '';
    const command = addBrokerUrlOption(new Command('seed'), 'x').action((flags: { amqpUrl: string }) => void (seen = flags.amqpUrl));
    const out = await runCommand(command, ['--url', 'amqp://h1', '--url', 'amqp://h2']);
    expect(seen).toBe('amqp://h1,amqp://h2');
    expect(out.stderr).toContain('--url is now --amqp-url');
    expect(command.helpInformation()).not.toMatch(/--url\b/);
  });

  it('connectFirst skips a node that refuses and connects to the next one (real RabbitMQ on 5672)', async () => {
    const dead = `amqp://guest:guest@127.0.0.1:${await freePort()}`;
    const { connection, index } = await connectFirst([dead, DEFAULT_URL], 'seedline broker.test');
    await connection.close();
    expect(index).toBe(1);
    const err = await connectFirst([dead, dead], 'seedline broker.test').catch((e: unknown) => e);
    expect(isSeedlineError(err, 'BROKER_CONNECT')).toBe(true);
    expect((err as Error).message).toMatch(/any of the 2 RabbitMQ nodes in --amqp-url: .*connection refused; .*connection refused/);
  });
});
