/**
 * Sanitas SBF72 / SBF73 (Beurer BF720 / BF915), as the public descriptions cited in
 * drivers/definitions/sanitas-sbf72.ts tell it:
 * - the multi-user weight scale (Weight Scale 0x181D, User Data 0x181C with its User Control Point,
 *   Current Time written by the central, Device Information, Battery) plus the Body Composition Service
 *   0x181B: each weighing indicates its weight on 0x2A9D, then its body composition on 0x2A9C;
 * - its services answer only on a bonded (encrypted) link; it bonds with just works;
 * - beside stored weights it may send zeroed body composition records (placeholders): `placeholder`;
 * - the vendor service 0xFFFF (user list, initials, activity) exists and stays silent unless written.
 */
import { BCS, type BodyCompositionRecord, encodeBodyCompositionFeature } from './body-composition.ts';
import { type ScaleOptions, SimScale, type WeightRecord } from './scale.ts';

/** The vendor service and its user-list characteristic (16-bit in the Bluetooth base UUID). */
export const SBF72_VENDOR = { service: 'ffff', userList: '0001' } as const;

export interface BodyReading {
  kg: number;
  bodyFatPercent: number;
  musclePercent: number;
  waterKg: number;
  softLeanKg: number;
  impedanceOhm: number;
  /** kJ per day, computed by the scale from the person's profile. */
  basalMetabolismKj: number;
  userIndex?: number;
}

export class SimSanitasSbf72 extends SimScale {
  private nextComposition: ((r: WeightRecord) => BodyCompositionRecord) | undefined;
  /** Compositions still sent before the link drops instead of the next one (one-shot fault). */
  private compositionsBeforeLoss: number | undefined;

  constructor(options: ScaleOptions & { model?: 'SBF72' | 'SBF73' | 'BF720' | 'BF915' }) {
    const model = options.model ?? 'SBF72';
    super({
      requireBonding: true,
      ctsWritable: true,
      ...options,
      advertisement: {
        localName: model,
        serviceUuids: ['181d', BCS.service, '181c'],
        ...options.advertisement,
      },
      info: {
        manufacturer: model.startsWith('BF') ? 'Beurer GmbH' : 'Hans Dinslage GmbH',
        model,
        serial: '72000001',
        firmware: '1.06',
        ...options.info,
      },
      extraServices: [
        {
          uuid: BCS.service,
          characteristics: [
            { uuid: BCS.feature, properties: ['read'], read: () => encodeBodyCompositionFeature() },
            { uuid: BCS.measurement, properties: ['indicate'] },
          ],
        },
        {
          uuid: SBF72_VENDOR.service,
          characteristics: [
            {
              uuid: SBF72_VENDOR.userList,
              properties: ['write', 'notify'],
              write: () => {},
            },
          ],
        },
        ...(options.extraServices ?? []),
      ],
    });
  }

  /** A weighing barefoot on the electrodes: the weight and its body composition. */
  measureBody(reading: BodyReading): WeightRecord {
    const r = reading;
    this.nextComposition = (w) => ({
      bodyFatRaw: Math.round(r.bodyFatPercent * 10),
      ...(w.time ? { time: w.time } : {}),
      ...(w.userIndex !== undefined ? { userIndex: w.userIndex } : {}),
      basalMetabolismKj: Math.round(r.basalMetabolismKj),
      musclePercentRaw: Math.round(r.musclePercent * 10),
      softLeanMassRaw: Math.round(r.softLeanKg / 0.005),
      bodyWaterMassRaw: Math.round(r.waterKg / 0.005),
      impedanceRaw: Math.round(r.impedanceOhm * 10),
    });
    return this.measure({ kg: r.kg, ...(r.userIndex !== undefined ? { userIndex: r.userIndex } : {}) });
  }

  /** A weighing whose body composition record is a zeroed placeholder (only basal metabolism is set). */
  measurePlaceholder(reading: { kg: number; userIndex?: number }): WeightRecord {
    this.nextComposition = (w) => ({
      bodyFatRaw: 0,
      ...(w.time ? { time: w.time } : {}),
      ...(w.userIndex !== undefined ? { userIndex: w.userIndex } : {}),
      basalMetabolismKj: 9110,
      musclePercentRaw: 0,
      softLeanMassRaw: 0,
      bodyWaterMassRaw: 0,
      impedanceRaw: 0,
    });
    return this.measure(reading);
  }

  /**
   * One-shot fault: the link is lost (supervision timeout) in place of the `n`-th body composition
   * indication from now, i.e. after its weight went out: the weighing stays stored, whole.
   */
  loseLinkBeforeComposition(n: number): void {
    this.compositionsBeforeLoss = n - 1;
  }

  protected override notify(service: string, characteristic: string, data: Buffer): Promise<boolean> {
    if (
      service === BCS.service &&
      characteristic === BCS.measurement &&
      this.compositionsBeforeLoss !== undefined
    ) {
      if (this.compositionsBeforeLoss === 0) {
        this.compositionsBeforeLoss = undefined;
        this.disconnect(0x08);
        return Promise.resolve(false);
      }
      this.compositionsBeforeLoss -= 1;
    }
    return super.notify(service, characteristic, data);
  }

  protected override take(record: WeightRecord): WeightRecord {
    const compose = this.nextComposition;
    this.nextComposition = undefined;
    return super.take(compose ? { ...record, composition: compose(record) } : record);
  }

  /** Stored weighings go out once both 0x2A9D and 0x2A9C are enabled, or at a user's consent. */
  protected override onCccd(service: string, characteristic: string, value: number): void {
    if (service === BCS.service && characteristic === BCS.measurement && (value & 0x0002) !== 0) {
      void this.pushStored(this.faults.resendOld ?? 0);
    }
  }
}
