import { Option } from 'commander';
import { DEFAULT_URL } from './broker.ts';

/**
 * `--url`, taking one broker or the nodes of a cluster: comma-separated, or the option
 * repeated (`--url amqp://a --url amqp://b` is `amqp://a,amqp://b`). Also SEEDLINE_AMQP_URL.
 */
export function brokerUrlOption(description: string): Option {
  let given = false; // the first value replaces the default, later ones are appended
  return new Option('--url <url>', `${description}; several nodes of one cluster: comma-separated or --url repeated`)
    .env('SEEDLINE_AMQP_URL')
    .default(DEFAULT_URL)
    .argParser((value: string, previous: string) => {
      const list = given ? `${previous},${value}` : value;
      given = true;
      return list;
    });
}
