/**
 * Beurer BF105, BF500, BF788 and BF950 (drivers/definitions/beurer-bf950.ts): the same standard Weight
 * Scale + Body Composition + User Data scale as the Sanitas SBF72 family (simulators/ble/sanitas-sbf72.ts),
 * bonded before its services answer, each weighing a weight then its body composition; only the name it
 * advertises and the Device Information it gives differ.
 */

import { SimSanitasSbf72 } from './sanitas-sbf72.ts';
import type { ScaleOptions } from './scale.ts';

export type BeurerBf950Model = 'BF105' | 'BF500' | 'BF788' | 'BF950';

export class SimBeurerBf950 extends SimSanitasSbf72 {
  constructor(options: ScaleOptions & { model?: BeurerBf950Model }) {
    const { model = 'BF950', ...rest } = options;
    super({
      ...rest,
      advertisement: { localName: model, ...rest.advertisement },
      info: { manufacturer: 'Beurer GmbH', model, serial: '95000001', ...rest.info },
    });
  }
}
