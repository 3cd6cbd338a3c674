import { describe, expect, it } from 'vitest';
import type { Component } from './contracts.ts';
import { Lifecycle } from './lifecycle.ts';
import { silentLogger } from './log.ts';

function recorder() {
  const events: string[] = [];
  const make = (
    name: string,
    opts: { failStart?: boolean; failStop?: boolean; hangStop?: boolean } = {},
  ): Component => ({
    name,
    async start() {
      await new Promise((r) => setTimeout(r, 1));
      if (opts.failStart) throw new Error(`${name} cannot bind`);
      events.push(`start:${name}`);
    },
    async stop() {
      if (opts.hangStop) await new Promise(() => undefined);
      events.push(`stop:${name}`);
      if (opts.failStop) throw new Error(`${name} stop failed`);
    },
  });
  return { events, make };
}

describe('lifecycle', () => {
  it('starts in dependency order and stops in reverse', async () => {
    const { events, make } = recorder();
    const lc = new Lifecycle(silentLogger());
    lc.add(make('forwarder'), ['journal', 'pipeline']);
    lc.add(make('broker'), ['pipeline']);
    lc.add(make('pipeline'), ['journal', 'registry']);
    lc.add(make('registry'));
    lc.add(make('journal'));
    await lc.start();
    const starts = events.filter((e) => e.startsWith('start:')).map((e) => e.slice(6));
    const precedes = (a: string, b: string) =>
      expect(starts.indexOf(a), `${a} before ${b}`).toBeLessThan(starts.indexOf(b));
    precedes('journal', 'pipeline');
    precedes('registry', 'pipeline');
    precedes('pipeline', 'broker');
    precedes('pipeline', 'forwarder');
    precedes('journal', 'forwarder');
    expect(lc.running()).toEqual(starts);
    await lc.stop();
    const stops = events.filter((e) => e.startsWith('stop:')).map((e) => e.slice(5));
    expect(stops).toEqual([...starts].reverse());
    expect(lc.running()).toEqual([]);
    await lc.stop(); // safe twice
    expect(events.filter((e) => e.startsWith('stop:'))).toHaveLength(5);
  });

  it('a failing start stops what already started, in reverse, and reports MEDGW_ERR_START_FAILED', async () => {
    const { events, make } = recorder();
    const lc = new Lifecycle(silentLogger());
    lc.add(make('registry'))
      .add(make('journal'))
      .add(make('http'))
      .add(make('broker', { failStart: true }))
      .add(make('forwarder'));
    await expect(lc.start()).rejects.toMatchObject({
      code: 'MEDGW_ERR_START_FAILED',
      message: expect.stringContaining('broker failed to start: broker cannot bind'),
    });
    expect(events).toEqual([
      'start:registry',
      'start:journal',
      'start:http',
      'stop:http',
      'stop:journal',
      'stop:registry',
    ]);
    expect(lc.running()).toEqual([]);
  });

  it('one failing or hanging stop does not keep the others from stopping', async () => {
    const { events, make } = recorder();
    const lc = new Lifecycle(silentLogger(), 50);
    lc.add(make('journal'))
      .add(make('hung', { hangStop: true }))
      .add(make('bad', { failStop: true }));
    await lc.start();
    await lc.stop();
    expect(events.filter((e) => e.startsWith('stop:'))).toEqual(['stop:bad', 'stop:journal']);
  });

  it('refuses cycles, unknown dependencies and duplicate names', async () => {
    const { make } = recorder();
    const cyc = new Lifecycle(silentLogger()).add(make('a'), ['b']).add(make('b'), ['a']);
    expect(() => cyc.order()).toThrow(
      expect.objectContaining({
        code: 'MEDGW_ERR_START_FAILED',
        message: expect.stringContaining('a → b → a'),
      }),
    );
    const missing = new Lifecycle(silentLogger()).add(make('a'), ['nothing']);
    await expect(missing.start()).rejects.toMatchObject({ code: 'MEDGW_ERR_START_FAILED' });
    expect(() => new Lifecycle(silentLogger()).add(make('a')).add(make('a'))).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_START_FAILED' }),
    );
  });
});
