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
  it('a burst of notifications gives one publish naming each topic once', () => {
    const s = stores();
    const published: (readonly string[])[] = [];
    const stop = watchSharedChanges(s, (t) => published.push(t), 250);
    for (let i = 0; i < 50; i++) s.change({ kind: 'device', id: `d${i}` });
    s.change({ kind: 'patient', id: 'p' });
    for (let i = 0; i < 50; i++) s.commit();
    expect(published).toEqual([]);
    vi.advanceTimersByTime(250);
    expect(published).toHaveLength(1);
    expect([...(published[0] ?? [])].sort()).toEqual(['exchanges', 'links', 'readings', 'registry']);
    // the next change is a new publish
    s.change({ kind: 'section', id: 'ble' });
    vi.advanceTimersByTime(250);
    expect(published[1]).toEqual(['registry', 'pairing']);
    stop();
    expect(s.listening()).toBe(0);
  });

  it('stopped, a pending publish is dropped; stores without notifications give nothing to watch', () => {
    const s = stores();
    const published: unknown[] = [];
    const stop = watchSharedChanges(s, (t) => published.push(t), 250);
    s.commit();
    stop();
    vi.advanceTimersByTime(1_000);
    expect(published).toEqual([]);
    // the embedded stores: a lowdb registry has no onChange, a SQLite journal no watch
    const none = watchSharedChanges({ registry: {}, journal: {} }, (t) => published.push(t));
    vi.advanceTimersByTime(1_000);
    expect(published).toEqual([]);
    none();
  });
});
