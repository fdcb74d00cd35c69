import { Option, type Command } from 'commander';
import { renamedOption } from '../../common/options.ts';
import { DEFAULT_URL } from './broker.ts';

/**
 * `--amqp-url`, taking one broker or the nodes of a cluster: comma-separated, or the option
 * repeated (`--amqp-url amqp://a --amqp-url amqp://b` is `amqp://a,amqp://b`). Also SEEDLINE_AMQP_URL.
 */
export function brokerUrlOption(description: string): Option {
  let given = false; // the first value replaces the default, later ones are appended
  return new Option('--amqp-url <url>', `${description}; several nodes of one cluster: comma-separated or --amqp-url repeated`)
    .env('SEEDLINE_AMQP_URL')
    .default(DEFAULT_URL)
    .argParser((value: string, previous: string) => {
      const list = given ? `${previous},${value}` : value;
      given = true;
      return list;
    });
}

/** Adds `--amqp-url` (brokerUrlOption) and its old spelling `--url`, kept for one release. */
export function addBrokerUrlOption(command: Command, description: string): Command {
  return renamedOption(command.addOption(brokerUrlOption(description)), '--url <url>', '--amqp-url');
}
