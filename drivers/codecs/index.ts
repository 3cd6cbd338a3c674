/** Every characteristic codec, one file each. Add a codec: write its file and list it here. */
import type { CharacteristicCodec } from '../codec.ts';

// biome-ignore lint/suspicious/noExplicitAny: codecs have their own field types; the registry is heterogeneous.
export const CODECS: readonly CharacteristicCodec<any>[] = [];
