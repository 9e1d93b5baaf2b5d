// GET /hops and `hopscope analyze URL`: what two agents saw, each of one host's captures, read
// back over HTTP, correlates as the files read together do. And the graph encoding under it keeps
// what structured cloning keeps, and refuses what is malformed.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/cli/version.js';
import { createLogger } from '../../src/log.js';
import { splitAgentUrl } from '../../src/pipeline/agents.js';
import { decodeGraph, encodeGraph, GraphJsonError } from '../../src/pipeline/graph-json.js';
import { HopsDocumentError, readHopsDocument } from '../../src/pipeline/hops-document.js';
import type { Report } from '../../src/report/model.js';
import { type Service, startService } from '../../src/service/service.js';
import { analyzeJson } from '../analyze/helpers.js';
import { fakeRun, lines } from '../helpers/service-run.js';

const scenario = join(import.meta.dirname, '..', '..', 'samples', 'fragmenting-underlay');
const captures = readdirSync(scenario)
  .filter((f) => f.endsWith('.pcap'))
  .sort()
  .map((f) => join(scenario, f));
const token = randomBytes(16).toString('hex');
const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

async function agent(name: string, files: string[]): Promise<string> {
  const service = await startService({
    listen: '127.0.0.1:0',
    token,
    evidence: null,
    intervalMs: 3_600_000,
    agentName: name,
    toolVersion: packageVersion(),
    logger: createLogger('silent'),
    text: lines(),
  });
  services.push(service);
  const run = fakeRun(service.tap);
  service.attach(run);
  for (const path of files) await run.feed(path);
  return `http://127.0.0.1:${service.address?.port}`;
}

/** What correlation concluded, without the capture paths (files here, URLs there). */
function conclusions(report: Report) {
  return {
    hops: report.hops.map((h) => ({ ...h })).sort((a, b) => a.name.localeCompare(b.name)),
    findings: report.findings
      .map((f) => ({ ...f }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    paths: report.paths,
    clockOffsets: report.clockOffsets,
  };
}

describe('agents over HTTP (GET /hops)', () => {
  it('correlate across two hosts as the files read together do, agents and files mixed', async () => {
    const host1 = captures.filter((f) => f.includes('/host1-'));
    const host2 = captures.filter((f) => f.includes('/host2-'));
    const [guest1, guest2] = ['guest1-eth0.pcap', 'guest2-eth0.pcap'].map((f) => join(scenario, f)) as [
      string,
      string,
    ];
    // The lab's hop names carry their host ("host1-phy0"), as the agents' names would make them.
    const [one, two] = await Promise.all([agent('host1', host1), agent('host2', host2)]);
    const byFiles = await analyzeJson([guest1, ...host1, ...host2, guest2]);
    const byAgents = await analyzeJson(['--token', token, guest1, one as string, two as string, guest2]);
    expect(byAgents.run.code, byAgents.run.stderr).toBe(0);
    expect(conclusions(byAgents.report)).toEqual(conclusions(byFiles.report));
    expect(byAgents.report.hops.map((h) => h.name)).toEqual(byFiles.report.hops.map((h) => h.name));
    expect(byAgents.report.paths[0]?.splitAt).toMatchObject({ from: 'host1-vxlan-97', to: 'host1-phy0' });
    expect(byAgents.report.findings.some((f) => f.code === 'fragment.outer' && f.hop === 'host2-phy0')).toBe(
      true,
    );
    expect(byAgents.report.captures.map((c) => c.path)).toContain(`${one}#${host1[0]}`);
  });

  it('reports an agent it cannot ask like a capture it cannot read, and analyses the rest', async () => {
    const one = await agent('host1', captures.slice(0, 2));
    const wrongToken = await analyzeJson(['--token', 'x'.repeat(32), one, captures[3] as string]);
    expect(wrongToken.run.code).toBe(1);
    expect(wrongToken.run.stderr).toMatch(/refused the token \(401\)/);
    expect(wrongToken.report.hops.map((h) => h.name)).toEqual([captures[3]?.replace(/^.*\/|\.pcap$/g, '')]);
    // A port nothing listens on: one just closed.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const nobody = await analyzeJson([`http://127.0.0.1:${closed}`, captures[3] as string]);
    expect(nobody.run.code).toBe(1);
    expect(nobody.run.stderr).toContain(`http://127.0.0.1:${closed}: cannot get its hops: ECONNREFUSED`);
  });

  it('serves a versioned document whose summary matches its state', async () => {
    const url = await agent('h', captures.slice(0, 3));
    const text = await (await fetch(`${url}/hops`, { headers: { authorization: `Bearer ${token}` } })).text();
    const { document, sources } = readHopsDocument(text);
    expect(document).toMatchObject({
      format: 'hopscope.hops',
      version: 1,
      agent: 'h',
      tool: { name: 'hopscope' },
    });
    expect(document.hops.map((h) => h.frames)).toEqual(sources.flatMap((s) => s.hops.map((h) => h.frames)));
    expect(() => readHopsDocument(text.replace('"version": 1', '"version": 2'))).toThrow(/version 2/);
  });
});

/** A document's state decoded, changed by `change`, and encoded again. */
// biome-ignore lint/suspicious/noExplicitAny: the state is changed where any test needs it
type Loose = any;

function damaged(text: string, change: (sources: Loose[]) => void): string {
  const doc = JSON.parse(text);
  const sources = decodeGraph(doc.sources) as Loose[];
  change(sources);
  return JSON.stringify({ ...doc, sources: encodeGraph(sources) });
}

describe('a damaged document', () => {
  it('is refused, named, and the local captures are still analysed', async () => {
    const url = await agent('h', captures.slice(0, 3));
    const text = await (await fetch(`${url}/hops`, { headers: { authorization: `Bearer ${token}` } })).text();
    const traces = (sources: Loose[]) =>
      sources.flatMap((s) =>
        s.hops.flatMap((h: Loose) =>
          [...h.flows.byHash.values()].flat().flatMap((f: Loose) => (f.trace ? [f.trace] : [])),
        ),
      );
    const cases: Array<[(sources: Loose[]) => void, RegExp]> = [
      // Samples cut short of their stride: correlation would read past the end.
      [
        (s) => {
          const t = traces(s).find((t) => t.fromA.samples?.length > 5);
          t.fromA.samples.length -= 1;
        },
        /samples is not a list of 5-number samples/,
      ],
      [
        (s) => {
          delete traces(s)[0].fromB;
        },
        /trace has no fromB/,
      ],
      // Each of these made `analyze` exit 70 (a TypeError in storeRecords, hop-view, report/model).
      [
        (s) => {
          s[0].problems.byCode[0] = 0;
        },
        /cannot be analysed/,
      ],
      [
        (s) => {
          s[0].hops[0].checksums.seen.partial.frames = 7;
        },
        /cannot be analysed/,
      ],
      [
        (s) => {
          s[0].hops[0].linkTypes = 1;
        },
        /cannot be analysed/,
      ],
    ];
    for (const [change, why] of cases) {
      const bad = damaged(text, change);
      expect(() => readHopsDocument(bad)).toThrow(HopsDocumentError);
      expect(() => readHopsDocument(bad)).toThrow(why);
    }
    const server = createServer((_, res) => res.end(damaged(text, cases[2]?.[0] as (s: Loose[]) => void)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const bad = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { run, report } = await analyzeJson([bad, captures[3] as string]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`${bad}: cannot get its hops: its hop state cannot be analysed`);
      expect(run.stderr).not.toMatch(/internal error/);
      expect(report.captures.map((c) => c.path)).toContain(captures[3]);
    } finally {
      server.close();
    }
  });
});

describe('agent URLs', () => {
  it('find /hops under the URL given, and take a token from its user info', () => {
    const at = (url: string) => {
      const { origin, hopsUrl, token } = splitAgentUrl(url);
      return [origin, hopsUrl.href, token];
    };
    expect(at('http://hv1:9477')).toEqual(['http://hv1:9477', 'http://hv1:9477/hops', null]);
    expect(at('http://hv1:9477/hops')).toEqual(['http://hv1:9477', 'http://hv1:9477/hops', null]);
    expect(at('https://proxy/hv1/')).toEqual(['https://proxy', 'https://proxy/hv1/hops', null]);
    expect(at('http://:s3cr%2Ft@hv1:9477')).toEqual(['http://hv1:9477', 'http://hv1:9477/hops', 's3cr/t']);
    expect(at('http://tok@hv1:9477')[2]).toBe('tok');
  });
});

describe('the graph encoding', () => {
  it('keeps Maps, Sets, typed arrays, NaN, -0, undefined, shared objects and cycles', () => {
    const shared = { now: 1.5 };
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic.self = cyclic;
    const value = {
      a: shared,
      b: { clock: shared },
      m: new Map<unknown, unknown>([
        [1, 'x'],
        ['k', [Number.NaN, -0, Number.POSITIVE_INFINITY]],
      ]),
      s: new Set([1, 2]),
      bytes: Uint8Array.of(1, 2, 255),
      samples: [1, 2, 3, Number.NaN, 5, 6, 7, 8, 9, 0.1],
      u: undefined,
      cyclic,
    };
    const back = decodeGraph(JSON.parse(JSON.stringify(encodeGraph(value)))) as typeof value;
    expect(back).toEqual(value);
    expect(back.a).toBe(back.b.clock);
    expect(back.cyclic.self).toBe(back.cyclic);
    expect(Object.is((back.m.get('k') as number[])[1], -0)).toBe(true);
    expect(back.samples[3]).toBeNaN();
    expect(back.bytes).toBeInstanceOf(Uint8Array);
  });

  it('refuses malformed nodes with a reason, and never sets a prototype', () => {
    expect(() => decodeGraph({})).toThrow(GraphJsonError);
    expect(() => decodeGraph([[5]])).toThrow(/out of range/);
    expect(() => decodeGraph([['Function', 'x']])).toThrow(/unknown tag/);
    expect(() => decodeGraph([['f64', 'AAA=']])).toThrow(/not whole/);
    const polluted = decodeGraph(JSON.parse('[{"__proto__": 1}, {"polluted": 2}, true]')) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(polluted)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
