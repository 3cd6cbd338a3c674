// ESM bridge to the protobufjs minimal runtime for the generated static code (reading.js): the CommonJS
// module exposes its members only on the default export under Node's ESM loader.
import protobuf from 'protobufjs/minimal.js';

export const { Reader, Writer, util, roots } = protobuf;
