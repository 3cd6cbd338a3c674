import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchSharedChanges } from './shared-changes.ts';

type Change = { kind: 'device' | 'patient' | 'section'; id: string };

function stores() {
  const registryListeners = new Set<(c: Change) => void>();
  const journalListeners = new Set<() => void>();
  return {
    registry: {
      onChange(l: (c: Change) => void) {
        registryListeners.add(l);
        return () => registryListeners.delete(l);
      },
    },
    journal: {
      watch(l: () => void) {
        journalListeners.add(l);
        return () => journalListeners.delete(l);
      },
    },
    change: (c: Change) => {
      for (const l of registryListeners) l(c);
    },
    commit: () => {
      for (const l of journalListeners) l();
    },
    listening: () => registryListeners.size + journalListeners.size,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the other instances’ changes as live-page topics', () => {
  it('a lone change is told at once; a burst after it is told once per interval, each topic once', () => {
    const s = stores();
    const published: (readonly string[])[] = [];
    const stop = watchSharedChanges(s, (t) => published.push(t), 1_000);
    s.change({ kind: 'device', id: 'd0' });
    expect(published).toEqual([['registry']]);
    for (let i = 1; i < 50; i++) s.change({ kind: 'device', id: `d${i}` });
    s.change({ kind: 'patient', id: 'p' });
    for (let i = 0; i < 50; i++) s.commit();
    vi.advanceTimersByTime(999);
    expect(published).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(published).toHaveLength(2);
    expect([...(published[1] ?? [])].sort()).toEqual(['exchanges', 'links', 'readings', 'registry']);
    // quiet for an interval: the next change is told at once again
    vi.advanceTimersByTime(1_000);
    expect(published).toHaveLength(2);
    s.change({ kind: 'section', id: 'ble' });
    expect(published[2]).toEqual(['registry', 'pairing']);
    stop();
    expect(s.listening()).toBe(0);
  });

  it('stopped, a pending publish is dropped; stores without notifications give nothing to watch', () => {
    const s = stores();
    const published: unknown[] = [];
    const stop = watchSharedChanges(s, (t) => published.push(t), 1_000);
    s.commit();
    expect(published).toHaveLength(1);
    s.commit();
    stop();
    vi.advanceTimersByTime(5_000);
    expect(published).toHaveLength(1);
    published.length = 0;
    // the embedded stores: a lowdb registry has no onChange, a SQLite journal no watch
    const none = watchSharedChanges({ registry: {}, journal: {} }, (t) => published.push(t));
    vi.advanceTimersByTime(1_000);
    expect(published).toEqual([]);
    none();
  });
});
