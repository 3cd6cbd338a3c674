/**
 * /readyz over real HTTP: ready while readings can be stored; not ready, with the reason, once the
 * journal is full (devices are then refused) or the data disk is below its free-space margin; ready
 * again once the journal drained.
 */
import { statfsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { reading } from '../journal/conformance.ts';
import { startGateway, type TestGateway } from './harness.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function readyz(
  url: string,
): Promise<{ status: number; body: { status: string; reasons?: string[] } }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; reasons?: string[] } };
}

describe('/readyz', () => {
  it('says not ready with the reason while the journal is full, and ready again once it drained', async () => {
    gw = await startGateway({ maxReadings: 2 });
    await gw.ops.addPatient({ id: 'p1', displayName: 'Alice Test' });
    expect(await readyz(gw.url)).toEqual({ status: 200, body: { status: 'ready' } });
    gw.journal.append([reading('r1'), reading('r2')]);
    // a third reading is refused: the journal is full, and readiness says so
    expect(() => gw?.journal.append([reading('r3')])).toThrow(
      expect.objectContaining({ code: 'MEDGW_ERR_JOURNAL_FULL' }),
    );
    const full = await readyz(gw.url);
    expect(full.status).toBe(503);
    expect(full.body.status).toBe('not ready');
    expect(full.body.reasons).toEqual([
      expect.stringContaining('the journal is full: 2 readings held, limit 2'),
    ]);
    // one reading delivered: its values are purged, there is room again
    gw.journal.transition('r1', 'pending', 'in-flight');
    gw.journal.transition('r1', 'in-flight', 'delivered', { remoteId: 'obs-1' });
    expect(await readyz(gw.url)).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('says not ready when the data disk has less free space than its margin', async () => {
    const probe = statfsSync('/tmp');
    // a margin just above what the disk has free: the real free space is below it
    gw = await startGateway({ minFreeDiskBytes: probe.bavail * probe.bsize * 2 + 1 });
    const r = await readyz(gw.url);
    expect(r.status).toBe(503);
    expect(r.body.reasons).toEqual([expect.stringMatching(/^the data disk is nearly full: .* MiB free/)]);
  });
});
