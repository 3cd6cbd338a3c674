/**
 * Omron X4 Smart upper-arm cuff on the standard Blood Pressure Service, as drivers/definitions/omron-x4-smart.ts
 * describes it:
 * - after a measurement it connects and sends **only its latest reading**; the readings taken while no
 *   central was near stay in its memory until the person starts a transfer (short press on the Bluetooth
 *   button: `startTransfer()`), which sends them all and clears them;
 * - it ends the connection itself once it has sent;
 * - its services answer on a bonded link only; it pairs in its pairing mode ("P" blinking);
 * - its Current Time is readable but a write is refused with ATT 0x80 ("application error").
 */
import { type BloodPressureRecord, type CuffOptions, SimCuff } from './cuff.ts';
import { AttError, type SimService } from './peripheral.ts';

export class SimOmronX4Smart extends SimCuff {
  /** Transfer mode (short press on the Bluetooth button): every stored reading goes. */
  private transfer = false;
  /** Current Time writes the cuff refused. */
  refusedClockWrites = 0;

  constructor(options: CuffOptions) {
    super({
      requireBonding: true,
      disconnectWhenDone: true,
      ctsWritable: true,
      ...options,
      advertisement: { localName: 'X4 Smart', serviceUuids: ['1810'], ...options.advertisement },
      info: {
        manufacturer: 'OMRON HEALTHCARE',
        model: 'HEM-7155T-EBK',
        serial: '20231100155',
        firmware: '1.0',
        ...options.info,
      },
    });
  }

  /** The person short-presses the Bluetooth button: the cuff advertises and sends its whole memory. */
  startTransfer(): void {
    this.transfer = true;
    this.advertise();
  }

  protected override sendingNow(): ((r: BloodPressureRecord) => boolean) | undefined {
    if (this.transfer) return undefined;
    const latest = this.pending.at(-1);
    return (r) => r === latest;
  }

  protected override onDisconnect(): void {
    if (this.pending.length === 0) this.transfer = false;
  }

  protected override buildServices(): SimService[] {
    return super.buildServices().map((s) =>
      s.uuid !== '1805'
        ? s
        : {
            ...s,
            characteristics: s.characteristics.map((c) =>
              c.uuid !== '2a2b'
                ? c
                : {
                    ...c,
                    write: () => {
                      this.refusedClockWrites += 1;
                      throw new AttError(0x80, 'application error: the cuff keeps its own clock');
                    },
                  },
            ),
          },
    );
  }
}
