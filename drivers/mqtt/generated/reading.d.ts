import * as $protobuf from "protobufjs";
import Long = require("long");
/** Namespace medgw. */
export namespace medgw {

    /** Namespace v1. */
    namespace v1 {

        /** Properties of a Quantity. */
        interface IQuantity {

            /** Quantity value */
            value?: (number|null);

            /** Quantity unit */
            unit?: (string|null);

            /** Quantity decimals */
            decimals?: (number|null);
        }

        /** Represents a Quantity. */
        class Quantity implements IQuantity {

            /**
             * Constructs a new Quantity.
             * @param [properties] Properties to set
             */
            constructor(properties?: medgw.v1.IQuantity);

            /** Quantity value. */
            public value: number;

            /** Quantity unit. */
            public unit: string;

            /** Quantity decimals. */
            public decimals?: (number|null);

            /**
             * Creates a new Quantity instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Quantity instance
             */
            public static create(properties?: medgw.v1.IQuantity): medgw.v1.Quantity;

            /**
             * Encodes the specified Quantity message. Does not implicitly {@link medgw.v1.Quantity.verify|verify} messages.
             * @param message Quantity message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            public static encode(message: medgw.v1.IQuantity, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Encodes the specified Quantity message, length delimited. Does not implicitly {@link medgw.v1.Quantity.verify|verify} messages.
             * @param message Quantity message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            public static encodeDelimited(message: medgw.v1.IQuantity, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Quantity message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns Quantity
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): medgw.v1.Quantity;

            /**
             * Decodes a Quantity message from the specified reader or buffer, length delimited.
             * @param reader Reader or buffer to decode from
             * @returns Quantity
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): medgw.v1.Quantity;

            /**
             * Verifies a Quantity message.
             * @param message Plain object to verify
             * @returns `null` if valid, otherwise the reason why it is not
             */
            public static verify(message: { [k: string]: any }): (string|null);

            /**
             * Creates a Quantity message from a plain object. Also converts values to their respective internal types.
             * @param object Plain object
             * @returns Quantity
             */
            public static fromObject(object: { [k: string]: any }): medgw.v1.Quantity;

            /**
             * Creates a plain object from a Quantity message. Also converts values to other types if specified.
             * @param message Quantity
             * @param [options] Conversion options
             * @returns Plain object
             */
            public static toObject(message: medgw.v1.Quantity, options?: $protobuf.IConversionOptions): { [k: string]: any };

            /**
             * Converts this Quantity to JSON.
             * @returns JSON object
             */
            public toJSON(): { [k: string]: any };

            /**
             * Gets the default type url for Quantity
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }

        /** Properties of a Reading. */
        interface IReading {

            /** Reading kind */
            kind?: (string|null);

            /** Reading time */
            time?: (string|null);

            /** Reading seq */
            seq?: (number|null);

            /** Reading meal */
            meal?: (string|null);

            /** Reading values */
            values?: ({ [k: string]: medgw.v1.IQuantity }|null);
        }

        /** Represents a Reading. */
        class Reading implements IReading {

            /**
             * Constructs a new Reading.
             * @param [properties] Properties to set
             */
            constructor(properties?: medgw.v1.IReading);

            /** Reading kind. */
            public kind: string;

            /** Reading time. */
            public time: string;

            /** Reading seq. */
            public seq?: (number|null);

            /** Reading meal. */
            public meal?: (string|null);

            /** Reading values. */
            public values: { [k: string]: medgw.v1.IQuantity };

            /**
             * Creates a new Reading instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Reading instance
             */
            public static create(properties?: medgw.v1.IReading): medgw.v1.Reading;

            /**
             * Encodes the specified Reading message. Does not implicitly {@link medgw.v1.Reading.verify|verify} messages.
             * @param message Reading message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            public static encode(message: medgw.v1.IReading, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Encodes the specified Reading message, length delimited. Does not implicitly {@link medgw.v1.Reading.verify|verify} messages.
             * @param message Reading message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            public static encodeDelimited(message: medgw.v1.IReading, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Reading message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns Reading
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): medgw.v1.Reading;

            /**
             * Decodes a Reading message from the specified reader or buffer, length delimited.
             * @param reader Reader or buffer to decode from
             * @returns Reading
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): medgw.v1.Reading;

            /**
             * Verifies a Reading message.
             * @param message Plain object to verify
             * @returns `null` if valid, otherwise the reason why it is not
             */
            public static verify(message: { [k: string]: any }): (string|null);

            /**
             * Creates a Reading message from a plain object. Also converts values to their respective internal types.
             * @param object Plain object
             * @returns Reading
             */
            public static fromObject(object: { [k: string]: any }): medgw.v1.Reading;

            /**
             * Creates a plain object from a Reading message. Also converts values to other types if specified.
             * @param message Reading
             * @param [options] Conversion options
             * @returns Plain object
             */
            public static toObject(message: medgw.v1.Reading, options?: $protobuf.IConversionOptions): { [k: string]: any };

            /**
             * Converts this Reading to JSON.
             * @returns JSON object
             */
            public toJSON(): { [k: string]: any };

            /**
             * Gets the default type url for Reading
             * @param [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns The default type url
             */
            public static getTypeUrl(typeUrlPrefix?: string): string;
        }
    }
}
