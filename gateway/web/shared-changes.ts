/**
 * What the other instances sharing the storage changed, as live-page topics: the registry's
 * notifications (`NOTIFY medgw_registry`: a device or patient added, assigned, removed) and the
 * journal's (`NOTIFY medgw_journal`: readings stored, pending or quarantined) reach every instance
 * already; this turns them into the topics a local operation names (gateway/ops/operations.ts), so an
 * open page on instance 1 refreshes when instance 2 changed what it shows. Throttled: a lone change
 * is told at once; during a burst of notifications (a fleet publishing, a bulk import) each topic is
 * told at most once per `intervalMs`, with everything that came meanwhile.
 *
 * A state change without a notification of its own (a reading delivered by another instance's
 * forwarder) still reaches the pages through the live hub's poll of the journal's counts
 * (gateway/web/live.ts). This instance's own changes come back as notifications too: the pages then
 * refresh once more, which changes nothing they show.
 */
import type { OpsTopic } from '../ops/operations.ts';

/** A registry that tells which row another instance (or this one) changed: the PostgreSQL one. */
export interface ChangeNotifyingRegistry {
  onChange(listener: (change: { kind: 'device' | 'patient' | 'section'; id: string }) => void): () => void;
}

/** A journal that tells when any instance committed new readings: the PostgreSQL one. */
export interface ChangeNotifyingJournal {
  readonly watch?: ((listener: () => void) => () => void) | undefined;
}

const REGISTRY_TOPICS: Record<'device' | 'patient' | 'section', readonly OpsTopic[]> = {
  device: ['registry'],
  // a removed patient's link goes with it
  patient: ['registry', 'links'],
  // the named sections hold the Bluetooth bonds and consent codes
  section: ['registry', 'pairing'],
};
const JOURNAL_TOPICS: readonly OpsTopic[] = ['readings', 'exchanges'];

function notifies(registry: unknown): registry is ChangeNotifyingRegistry {
  return typeof (registry as Partial<ChangeNotifyingRegistry> | undefined)?.onChange === 'function';
}

/**
 * Calls `publish` with the topics the shared stores' notifications name: at once for the first
 * change, then at most once per `intervalMs` while changes keep coming; returns the function that
 * stops watching. Stores without notifications (the embedded SQLite journal and lowdb registry: one
 * instance) give nothing to watch.
 */
export function watchSharedChanges(
  stores: { readonly registry: unknown; readonly journal: ChangeNotifyingJournal },
  publish: (topics: readonly OpsTopic[]) => void,
  intervalMs = 1_000,
): () => void {
  const pending = new Set<OpsTopic>();
  /** Running while a publish happened less than `intervalMs` ago. */
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const flush = () => {
    if (stopped || pending.size === 0) {
      timer = undefined;
      return;
    }
    const topics = [...pending];
    pending.clear();
    try {
      publish(topics);
    } catch {
      // a hint: a page that failed to refresh changes nothing stored
    }
    timer = setTimeout(flush, intervalMs);
    timer.unref();
  };
  const add = (topics: readonly OpsTopic[]) => {
    if (stopped) return;
    for (const t of topics) pending.add(t);
    if (!timer) flush();
  };
  const stops: (() => unknown)[] = [];
  if (notifies(stores.registry)) stops.push(stores.registry.onChange((c) => add(REGISTRY_TOPICS[c.kind])));
  const unwatch = stores.journal.watch?.(() => add(JOURNAL_TOPICS));
  if (unwatch) stops.push(unwatch);
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const stop of stops) stop();
  };
}
