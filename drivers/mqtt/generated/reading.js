/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars*/
import * as $protobuf from "./protobuf-runtime.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const medgw = $root.medgw = (() => {

    /**
     * Namespace medgw.
     * @exports medgw
     * @namespace
     */
    const medgw = {};

    medgw.v1 = (function() {

        /**
         * Namespace v1.
         * @memberof medgw
         * @namespace
         */
        const v1 = {};

        v1.Quantity = (function() {

            /**
             * Properties of a Quantity.
             * @memberof medgw.v1
             * @interface IQuantity
             * @property {number|null} [value] Quantity value
             * @property {string|null} [unit] Quantity unit
             * @property {number|null} [decimals] Quantity decimals
             */

            /**
             * Constructs a new Quantity.
             * @memberof medgw.v1
             * @classdesc Represents a Quantity.
             * @implements IQuantity
             * @constructor
             * @param {medgw.v1.IQuantity=} [properties] Properties to set
             */
            function Quantity(properties) {
                if (properties)
                    for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Quantity value.
             * @member {number} value
             * @memberof medgw.v1.Quantity
             * @instance
             */
            Quantity.prototype.value = 0;

            /**
             * Quantity unit.
             * @member {string} unit
             * @memberof medgw.v1.Quantity
             * @instance
             */
            Quantity.prototype.unit = "";

            /**
             * Quantity decimals.
             * @member {number|null|undefined} decimals
             * @memberof medgw.v1.Quantity
             * @instance
             */
            Quantity.prototype.decimals = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            Object.defineProperty(Quantity.prototype, "_decimals", {
                get: $util.oneOfGetter($oneOfFields = ["decimals"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new Quantity instance using the specified properties.
             * @function create
             * @memberof medgw.v1.Quantity
             * @static
             * @param {medgw.v1.IQuantity=} [properties] Properties to set
             * @returns {medgw.v1.Quantity} Quantity instance
             */
            Quantity.create = function create(properties) {
                return new Quantity(properties);
            };

            /**
             * Encodes the specified Quantity message. Does not implicitly {@link medgw.v1.Quantity.verify|verify} messages.
             * @function encode
             * @memberof medgw.v1.Quantity
             * @static
             * @param {medgw.v1.IQuantity} message Quantity message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Quantity.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.value != null && Object.hasOwnProperty.call(message, "value"))
                    writer.uint32(/* id 1, wireType 1 =*/9).double(message.value);
                if (message.unit != null && Object.hasOwnProperty.call(message, "unit"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.unit);
                if (message.decimals != null && Object.hasOwnProperty.call(message, "decimals"))
                    writer.uint32(/* id 3, wireType 0 =*/24).uint32(message.decimals);
                return writer;
            };

            /**
             * Encodes the specified Quantity message, length delimited. Does not implicitly {@link medgw.v1.Quantity.verify|verify} messages.
             * @function encodeDelimited
             * @memberof medgw.v1.Quantity
             * @static
             * @param {medgw.v1.IQuantity} message Quantity message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Quantity.encodeDelimited = function encodeDelimited(message, writer) {
                return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
            };

            /**
             * Decodes a Quantity message from the specified reader or buffer.
             * @function decode
             * @memberof medgw.v1.Quantity
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {medgw.v1.Quantity} Quantity
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Quantity.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                let end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.medgw.v1.Quantity();
                while (reader.pos < end) {
                    let tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.value = reader.double();
                            break;
                        }
                    case 2: {
                            message.unit = reader.string();
                            break;
                        }
                    case 3: {
                            message.decimals = reader.uint32();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            /**
             * Decodes a Quantity message from the specified reader or buffer, length delimited.
             * @function decodeDelimited
             * @memberof medgw.v1.Quantity
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @returns {medgw.v1.Quantity} Quantity
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Quantity.decodeDelimited = function decodeDelimited(reader) {
                if (!(reader instanceof $Reader))
                    reader = new $Reader(reader);
                return this.decode(reader, reader.uint32());
            };

            /**
             * Verifies a Quantity message.
             * @function verify
             * @memberof medgw.v1.Quantity
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            Quantity.verify = function verify(message, long) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (long === undefined)
                    long = 0;
                if (long > $util.recursionLimit)
                    return "maximum nesting depth exceeded";
                let properties = {};
                if (message.value != null && Object.hasOwnProperty.call(message, "value"))
                    if (typeof message.value !== "number")
                        return "value: number expected";
                if (message.unit != null && Object.hasOwnProperty.call(message, "unit"))
                    if (!$util.isString(message.unit))
                        return "unit: string expected";
                if (message.decimals != null && Object.hasOwnProperty.call(message, "decimals")) {
                    properties._decimals = 1;
                    if (!$util.isInteger(message.decimals))
                        return "decimals: integer expected";
                }
                return null;
            };

            /**
             * Creates a Quantity message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof medgw.v1.Quantity
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {medgw.v1.Quantity} Quantity
             */
            Quantity.fromObject = function fromObject(object, long) {
                if (object instanceof $root.medgw.v1.Quantity)
                    return object;
                if (!$util.isObject(object))
                    throw TypeError(".medgw.v1.Quantity: object expected");
                if (long === undefined)
                    long = 0;
                if (long > $util.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                let message = new $root.medgw.v1.Quantity();
                if (object.value != null)
                    message.value = Number(object.value);
                if (object.unit != null)
                    message.unit = String(object.unit);
                if (object.decimals != null)
                    message.decimals = object.decimals >>> 0;
                return message;
            };

            /**
             * Creates a plain object from a Quantity message. Also converts values to other types if specified.
             * @function toObject
             * @memberof medgw.v1.Quantity
             * @static
             * @param {medgw.v1.Quantity} message Quantity
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            Quantity.toObject = function toObject(message, options, q) {
                if (!options)
                    options = {};
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                let object = {};
                if (options.defaults) {
                    object.value = 0;
                    object.unit = "";
                }
                if (message.value != null && Object.hasOwnProperty.call(message, "value"))
                    object.value = options.json && !isFinite(message.value) ? String(message.value) : message.value;
                if (message.unit != null && Object.hasOwnProperty.call(message, "unit"))
                    object.unit = message.unit;
                if (message.decimals != null && Object.hasOwnProperty.call(message, "decimals")) {
                    object.decimals = message.decimals;
                    if (options.oneofs)
                        object._decimals = "decimals";
                }
                return object;
            };

            /**
             * Converts this Quantity to JSON.
             * @function toJSON
             * @memberof medgw.v1.Quantity
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            Quantity.prototype.toJSON = function toJSON() {
                return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
            };

            /**
             * Gets the default type url for Quantity
             * @function getTypeUrl
             * @memberof medgw.v1.Quantity
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Quantity.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/medgw.v1.Quantity";
            };

            return Quantity;
        })();

        v1.Reading = (function() {

            /**
             * Properties of a Reading.
             * @memberof medgw.v1
             * @interface IReading
             * @property {string|null} [kind] Reading kind
             * @property {string|null} [time] Reading time
             * @property {number|null} [seq] Reading seq
             * @property {string|null} [meal] Reading meal
             * @property {Object.<string,medgw.v1.IQuantity>|null} [values] Reading values
             */

            /**
             * Constructs a new Reading.
             * @memberof medgw.v1
             * @classdesc Represents a Reading.
             * @implements IReading
             * @constructor
             * @param {medgw.v1.IReading=} [properties] Properties to set
             */
            function Reading(properties) {
                this.values = {};
                if (properties)
                    for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Reading kind.
             * @member {string} kind
             * @memberof medgw.v1.Reading
             * @instance
             */
            Reading.prototype.kind = "";

            /**
             * Reading time.
             * @member {string} time
             * @memberof medgw.v1.Reading
             * @instance
             */
            Reading.prototype.time = "";

            /**
             * Reading seq.
             * @member {number|null|undefined} seq
             * @memberof medgw.v1.Reading
             * @instance
             */
            Reading.prototype.seq = null;

            /**
             * Reading meal.
             * @member {string|null|undefined} meal
             * @memberof medgw.v1.Reading
             * @instance
             */
            Reading.prototype.meal = null;

            /**
             * Reading values.
             * @member {Object.<string,medgw.v1.IQuantity>} values
             * @memberof medgw.v1.Reading
             * @instance
             */
            Reading.prototype.values = $util.emptyObject;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            Object.defineProperty(Reading.prototype, "_seq", {
                get: $util.oneOfGetter($oneOfFields = ["seq"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            Object.defineProperty(Reading.prototype, "_meal", {
                get: $util.oneOfGetter($oneOfFields = ["meal"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new Reading instance using the specified properties.
             * @function create
             * @memberof medgw.v1.Reading
             * @static
             * @param {medgw.v1.IReading=} [properties] Properties to set
             * @returns {medgw.v1.Reading} Reading instance
             */
            Reading.create = function create(properties) {
                return new Reading(properties);
            };

            /**
             * Encodes the specified Reading message. Does not implicitly {@link medgw.v1.Reading.verify|verify} messages.
             * @function encode
             * @memberof medgw.v1.Reading
             * @static
             * @param {medgw.v1.IReading} message Reading message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Reading.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.kind != null && Object.hasOwnProperty.call(message, "kind"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.kind);
                if (message.time != null && Object.hasOwnProperty.call(message, "time"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.time);
                if (message.seq != null && Object.hasOwnProperty.call(message, "seq"))
                    writer.uint32(/* id 3, wireType 0 =*/24).uint32(message.seq);
                if (message.meal != null && Object.hasOwnProperty.call(message, "meal"))
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.meal);
                if (message.values != null && Object.hasOwnProperty.call(message, "values"))
                    for (let keys = Object.keys(message.values), i = 0; i < keys.length; ++i) {
                        writer.uint32(/* id 5, wireType 2 =*/42).fork().uint32(/* id 1, wireType 2 =*/10).string(keys[i]);
                        $root.medgw.v1.Quantity.encode(message.values[keys[i]], writer.uint32(/* id 2, wireType 2 =*/18).fork(), q + 1).ldelim().ldelim();
                    }
                return writer;
            };

            /**
             * Encodes the specified Reading message, length delimited. Does not implicitly {@link medgw.v1.Reading.verify|verify} messages.
             * @function encodeDelimited
             * @memberof medgw.v1.Reading
             * @static
             * @param {medgw.v1.IReading} message Reading message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Reading.encodeDelimited = function encodeDelimited(message, writer) {
                return this.encode(message, writer && writer.len ? writer.fork() : writer).ldelim();
            };

            /**
             * Decodes a Reading message from the specified reader or buffer.
             * @function decode
             * @memberof medgw.v1.Reading
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {medgw.v1.Reading} Reading
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Reading.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                let end, message, key, value;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.medgw.v1.Reading();
                while (reader.pos < end) {
                    let tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.kind = reader.string();
                            break;
                        }
                    case 2: {
                            message.time = reader.string();
                            break;
                        }
                    case 3: {
                            message.seq = reader.uint32();
                            break;
                        }
                    case 4: {
                            message.meal = reader.string();
                            break;
                        }
                    case 5: {
                            if (message.values === $util.emptyObject)
                                message.values = {};
                            let end2 = reader.uint32() + reader.pos;
                            if (end2 > reader.len)
                                throw RangeError("index out of range");
                            reader.len = end2;
                            key = "";
                            value = null;
                            while (reader.pos < end2) {
                                let tag2 = reader.uint32();
                                switch (tag2 >>> 3) {
                                case 1:
                                    key = reader.string();
                                    break;
                                case 2:
                                    value = $root.medgw.v1.Quantity.decode(reader, reader.uint32(), undefined, long + 1);
                                    break;
                                default:
                                    reader.skipType(tag2 & 7, long);
                                    break;
                                }
                            }
                            if (reader.pos !== end2)
                                throw RangeError("index out of range");
                            reader.len = end;
                            if (key === "__proto__")
                                $util.makeProp(message.values, key);
                            message.values[key] = value;
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            /**
             * Decodes a Reading message from the specified reader or buffer, length delimited.
             * @function decodeDelimited
             * @memberof medgw.v1.Reading
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @returns {medgw.v1.Reading} Reading
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Reading.decodeDelimited = function decodeDelimited(reader) {
                if (!(reader instanceof $Reader))
                    reader = new $Reader(reader);
                return this.decode(reader, reader.uint32());
            };

            /**
             * Verifies a Reading message.
             * @function verify
             * @memberof medgw.v1.Reading
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            Reading.verify = function verify(message, long) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (long === undefined)
                    long = 0;
                if (long > $util.recursionLimit)
                    return "maximum nesting depth exceeded";
                let properties = {};
                if (message.kind != null && Object.hasOwnProperty.call(message, "kind"))
                    if (!$util.isString(message.kind))
                        return "kind: string expected";
                if (message.time != null && Object.hasOwnProperty.call(message, "time"))
                    if (!$util.isString(message.time))
                        return "time: string expected";
                if (message.seq != null && Object.hasOwnProperty.call(message, "seq")) {
                    properties._seq = 1;
                    if (!$util.isInteger(message.seq))
                        return "seq: integer expected";
                }
                if (message.meal != null && Object.hasOwnProperty.call(message, "meal")) {
                    properties._meal = 1;
                    if (!$util.isString(message.meal))
                        return "meal: string expected";
                }
                if (message.values != null && Object.hasOwnProperty.call(message, "values")) {
                    if (!$util.isObject(message.values))
                        return "values: object expected";
                    let key = Object.keys(message.values);
                    for (let i = 0; i < key.length; ++i) {
                        let error = $root.medgw.v1.Quantity.verify(message.values[key[i]], long + 1);
                        if (error)
                            return "values." + error;
                    }
                }
                return null;
            };

            /**
             * Creates a Reading message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof medgw.v1.Reading
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {medgw.v1.Reading} Reading
             */
            Reading.fromObject = function fromObject(object, long) {
                if (object instanceof $root.medgw.v1.Reading)
                    return object;
                if (!$util.isObject(object))
                    throw TypeError(".medgw.v1.Reading: object expected");
                if (long === undefined)
                    long = 0;
                if (long > $util.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                let message = new $root.medgw.v1.Reading();
                if (object.kind != null)
                    message.kind = String(object.kind);
                if (object.time != null)
                    message.time = String(object.time);
                if (object.seq != null)
                    message.seq = object.seq >>> 0;
                if (object.meal != null)
                    message.meal = String(object.meal);
                if (object.values) {
                    if (!$util.isObject(object.values))
                        throw TypeError(".medgw.v1.Reading.values: object expected");
                    message.values = {};
                    for (let keys = Object.keys(object.values), i = 0; i < keys.length; ++i) {
                        if (keys[i] === "__proto__")
                            $util.makeProp(message.values, keys[i]);
                        if (!$util.isObject(object.values[keys[i]]))
                            throw TypeError(".medgw.v1.Reading.values: object expected");
                        message.values[keys[i]] = $root.medgw.v1.Quantity.fromObject(object.values[keys[i]], long + 1);
                    }
                }
                return message;
            };

            /**
             * Creates a plain object from a Reading message. Also converts values to other types if specified.
             * @function toObject
             * @memberof medgw.v1.Reading
             * @static
             * @param {medgw.v1.Reading} message Reading
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            Reading.toObject = function toObject(message, options, q) {
                if (!options)
                    options = {};
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                let object = {};
                if (options.objects || options.defaults)
                    object.values = {};
                if (options.defaults) {
                    object.kind = "";
                    object.time = "";
                }
                if (message.kind != null && Object.hasOwnProperty.call(message, "kind"))
                    object.kind = message.kind;
                if (message.time != null && Object.hasOwnProperty.call(message, "time"))
                    object.time = message.time;
                if (message.seq != null && Object.hasOwnProperty.call(message, "seq")) {
                    object.seq = message.seq;
                    if (options.oneofs)
                        object._seq = "seq";
                }
                if (message.meal != null && Object.hasOwnProperty.call(message, "meal")) {
                    object.meal = message.meal;
                    if (options.oneofs)
                        object._meal = "meal";
                }
                let keys2;
                if (message.values && (keys2 = Object.keys(message.values)).length) {
                    object.values = {};
                    for (let j = 0; j < keys2.length; ++j) {
                        if (keys2[j] === "__proto__")
                            $util.makeProp(object.values, keys2[j]);
                        object.values[keys2[j]] = $root.medgw.v1.Quantity.toObject(message.values[keys2[j]], options, q + 1);
                    }
                }
                return object;
            };

            /**
             * Converts this Reading to JSON.
             * @function toJSON
             * @memberof medgw.v1.Reading
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            Reading.prototype.toJSON = function toJSON() {
                return this.constructor.toObject(this, $protobuf.util.toJSONOptions);
            };

            /**
             * Gets the default type url for Reading
             * @function getTypeUrl
             * @memberof medgw.v1.Reading
             * @static
             * @param {string} [typeUrlPrefix] your custom typeUrlPrefix(default "type.googleapis.com")
             * @returns {string} The default type url
             */
            Reading.getTypeUrl = function getTypeUrl(typeUrlPrefix) {
                if (typeUrlPrefix === undefined) {
                    typeUrlPrefix = "type.googleapis.com";
                }
                return typeUrlPrefix + "/medgw.v1.Reading";
            };

            return Reading;
        })();

        return v1;
    })();

    return medgw;
})();

export { $root as default };
