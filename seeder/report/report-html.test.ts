import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../common/test-support.ts';
import { isSeedlineError } from '../../common/errors.ts';
import { Histogram } from './histogram.ts';
import type { SecondSample } from './meter.ts';
import { RUN_REPORT_FORMAT, defaultPagePath, type RunReport } from './report.ts';
import { reportCommand } from './report-cli.ts';
import { chartPoints, renderReportHtml } from './report-html.ts';

function second(t: number, confirmed: number, extra: Partial<SecondSample> = {}): SecondSample {
  return { t, target: 100, published: confirmed, confirmed, nacked: 0, inFlight: 3, lagMs: 0, p50: 1500, p99: 9000, max: 12000, paused: false, ...extra };
}

/** A report as seed --report writes it, with the given seconds. */
function reportWith(seconds: SecondSample[]): RunReport {
  const latency = new Histogram();
  for (const v of [900, 1500, 1600, 9000]) latency.record(v);
  return {
    format: RUN_REPORT_FORMAT,
    tool: { name: 'seedline', version: '0.1.0' },
    writtenAt: '2026-12-01T12:00:00.000Z',
    schedule: '100 events/s',
    selection: {},
    counts: { published: 300, confirmed: 300, nacked: 0 },
    controlPauses: [{ reason: 'control', from: 1.2, to: 1.9 }],
    stalls: 1,
    forgivenMs: 250,
    latency: latency.toJSON(),
    seconds,
  };
}

describe('the report page', () => {
  it('has one chart point per second, and folds a last partial second shorter than 0.5 s into the one before', () => {
    const points = chartPoints([second(1, 100), second(2, 100), second(3, 100), second(3.2, 40)]);
    expect(points.map((p) => p.t)).toEqual([1, 2, 3.2]);
    expect(points[2]!.confirmed).toBe(140);
    expect(points[2]!.achieved).toBeCloseTo(140 / 1.2);
  });

  it('merges a long run into at most MAX_POINTS points, keeping the worst p99 of each', () => {
    const samples = Array.from({ length: 5000 }, (_, i) => second(i + 1, 10, { p99: i === 2500 ? 4_000_000 : 9000 }));
    const points = chartPoints(samples, 1000);
    expect(points).toHaveLength(1000);
    expect(points.reduce((s, p) => s + p.confirmed, 0)).toBe(50_000);
    expect(Math.max(...points.map((p) => p.p99))).toBe(4_000_000);
    expect(points[0]!.achieved).toBeCloseTo(10);
  });

  it('says in its header when no event reached a queue (all unroutable), or when some did not', () => {
    const result = { events: 'events', exchange: 'x', url: 'amqp://h', runId: 'r', contentType: 'protobuf', total: 300, startPosition: 0, position: 300, checkpoint: null, published: 300, confirmed: 300, nacked: 0, retried: 0, overtaken: 0, unconfirmed: 0, reconnects: 0, republished: 0, interrupted: false, elapsedMs: 1000, returned: {}, returnedTotal: 300, pauses: [] } as unknown as NonNullable<RunReport['result']>;
    const none = renderReportHtml({ ...reportWith([second(1, 300)]), result }, 'run.json');
    expect(none).toContain('nothing routed: all 300 events came back unroutable');
    expect(none).not.toMatch(/·\s*complete/);
    const some = renderReportHtml({ ...reportWith([second(1, 300)]), result: { ...result, returnedTotal: 40 } }, 'run.json');
    expect(some).toContain('complete, but 40 events came back unroutable');
  });

  it('escapes what came from the run (an exchange name with markup stays text)', () => {
    const html = renderReportHtml({ ...reportWith([second(1, 100)]), schedule: '<script>alert(1)</script>' }, 'run.json');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;');
  });

  it('draws no target line for an unpaced run, and breaks the latency line at seconds without confirms', () => {
    const unpaced = [second(1, 50, { target: undefined }), second(2, 0, { target: undefined, p50: 0, p99: 0 }), second(3, 50, { target: undefined })];
    const html = renderReportHtml(reportWith(unpaced), 'run.json');
    expect(html).not.toContain('data-series="target"');
    const p50 = /data-series="p50" data-points="(\d+)" d="([^"]*)"/.exec(html)!;
    expect(p50[1]).toBe('2');
    expect(p50[2]!.match(/M/g)).toHaveLength(2);
  });

  it('renders the report of a run that failed before publishing (no result) with the meter counts', () => {
    const html = renderReportHtml(reportWith([]), 'run.json');
    expect(html).toContain('the run failed before publishing');
    expect(html).toContain('data-series="achieved" data-points="0"');
    expect(html).toMatch(/<th>published<\/th><td>300<\/td>/);
  });

  it('defaults the page to the report path with .html', () => {
    expect(defaultPagePath('/tmp/run.json')).toBe('/tmp/run.html');
    expect(defaultPagePath('/tmp/run')).toBe('/tmp/run.html');
  });
});

describe('seedline report (CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seedline-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    process.exitCode = undefined;
  });

  it('writes the page beside the report and says where', async () => {
    const file = join(dir, 'run.json');
    await writeFile(file, JSON.stringify(reportWith([second(1, 100), second(2, 100)])));
    const { stdout, code } = await runCommand(reportCommand(), [file]);
    expect(code).toBe(0);
    expect(stdout).toContain(join(dir, 'run.html'));
    const html = await readFile(join(dir, 'run.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/src=|href=/); // nothing to load
  });

  it('--out chooses the page', async () => {
    const file = join(dir, 'out.json');
    await writeFile(file, JSON.stringify(reportWith([second(1, 100)])));
    await runCommand(reportCommand(), [file, '--out', join(dir, 'elsewhere.html')]);
    expect(await readFile(join(dir, 'elsewhere.html'), 'utf8')).toContain('rate-chart');
  });

  it.each([
    ['missing.json', null, /missing\.json does not exist/],
    ['garbage.json', 'not json {', /garbage\.json is not a seedline run report: it is not JSON/],
    ['other.json', JSON.stringify({ format: 'seedline-manifest/1' }), /other\.json is not a seedline run report \(expected format seedline-run-report\/1, found "seedline-manifest\/1"\)/],
    ['damaged.json', JSON.stringify({ format: RUN_REPORT_FORMAT, seconds: [] }), /damaged\.json is a damaged run report: 'latency' is missing/],
  ])('%s: a CONFIG_INVALID error naming the file', async (name, content, message) => {
    const file = join(dir, name);
    if (content !== null) await writeFile(file, content);
    const err = await runCommand(reportCommand(), [file]).catch((e: unknown) => e);
    expect(isSeedlineError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect((err as { context: { file: string } }).context.file).toBe(file);
  });

  it('--help ends with an example', () => {
    let help = '';
    reportCommand().configureOutput({ writeOut: (s) => (help += s) }).outputHelp();
    expect(help).toContain('--out');
    expect(help).toMatch(/Examples:\n\s+\$ seedline seed .*--report run\.json\n\s+\$ seedline report run\.json/);
  });
});

describe('the report page: queue backlog', () => {
  it('draws one backlog chart per watched queue and names the queue that stopped the run', () => {
    const samples = (slope: number) => Array.from({ length: 20 }, (_, i) => ({ t: i, ready: slope * i, consumers: 1 }));
    const report: RunReport = {
      ...reportWith([second(1, 100), second(2, 100)]),
      backlog: {
        source: 'AMQP passive declares (depth, consumers; no rates)',
        startedAt: '2026-12-01T12:00:00.000Z',
        intervalMs: 1000,
        windowSeconds: 30,
        queues: [
          { queue: 'app.chat', end: 950, peak: 950, growth: 50, growthSpread: 0, samples: samples(50) },
          { queue: 'app.members', end: 0, peak: 0, growth: 0, growthSpread: 0, samples: samples(0) },
        ],
        breach: { queue: 'app.chat', kind: 'backlog', value: 950, limit: 900, t: 19, at: '2026-12-01T12:00:19.000Z' },
      },
    };
    const html = renderReportHtml(report, 'run.json');
    expect(html.match(/<svg id="backlog-chart-\d+"/g)).toHaveLength(2);
    expect(html).toMatch(/<path class="series ready" data-series="ready" data-points="20"/);
    expect(html).toContain('Stopped: queue app.chat: backlog 950 passed --max-backlog 900 at 19.0s');
    expect(html).toContain('<td>app.members</td>');
  });

  it('has no backlog section when the run was not watched', () => {
    expect(renderReportHtml(reportWith([second(1, 100)]), 'run.json')).not.toContain('id="backlog"');
  });
});
