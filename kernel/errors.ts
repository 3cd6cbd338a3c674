/**
 * The one catalogue of medgw error codes. Every refusal in the project carries one of these codes,
 * a message that says what was wrong and a hint that says what to do. `docs/errors.md` is generated
 * from this table (`npm run gen`) and a test keeps the two in sync.
 *
 * Callers match on `err.code`, never on the message text.
 *
 * It lives in `kernel/`, the one folder every layer may import (drivers, cloud-bridge, simulators,
 * gateway) and which imports nothing of ours: the catalogue is policy shared by all of them (HTTP
 * status, national-side outcome), not device knowledge.
 */

export interface ErrorEntry {
  /** Where the code is raised, used to group the documentation. */
  readonly area: 'input' | 'drivers' | 'mqtt' | 'ble' | 'gateway' | 'journal' | 'cloud' | 'sandbox' | 'http';
  /** What went wrong, in one sentence. */
  readonly message: string;
  /** What the person reading it should do. */
  readonly hint: string;
  /** HTTP status of an API answer or page that refuses with this code (the one error handler reads it). */
  readonly status: number;
  /** For a national-side answer: what happens to the reading (the forwarder reads it). */
  readonly outcome?: NationalOutcome;
  /**
   * The national-side answers this code names (the measurements client reads it): the HTTP statuses,
   * and a text the answer must hold. An entry with a text wins over one without for the same status.
   */
  readonly answer?: { readonly status: readonly number[]; readonly text?: RegExp };
  /**
   * For a quarantine reason: `discard-only` when no person may confirm the reading, because the device
   * itself says it is not a patient result (control solution, demonstration or test data) or it holds
   * nothing that can be filed. Confirming lifts any other quarantine (gateway/pipeline/restate.ts).
   */
  readonly quarantine?: 'discard-only';
}

/**
 * What the gateway does with a reading the national side answered with a code: send it again later,
 * keep it as a dead letter, hold this reading (a local choice), or hold every reading of the patient
 * (consent, link or identity problem, until the patient is linked again).
 */
export type NationalOutcome = 'retry' | 'dead-letter' | 'hold-reading' | 'hold-patient';

/**
 * The catalogue as its readers take it: the real one by default, or a copy with more codes (a test
 * shows that adding a national code to a copy changes every reader with no other file changed).
 */
export type Catalogue = Readonly<Record<string, ErrorEntry>>;

export const ERROR_CATALOGUE = {
  // --- input given to the command line or an API --------------------------------------------
  MEDGW_ERR_USAGE: {
    area: 'input',
    status: 400,
    message: 'The command was called with missing or unknown arguments.',
    hint: 'Run `medgw help` (or `medgw <command> --help`) to see the expected arguments.',
  },
  MEDGW_ERR_HEX: {
    area: 'input',
    status: 400,
    message: 'The frame is not valid hexadecimal (odd length or a character outside 0-9, a-f).',
    hint: 'Give the bytes as an even number of hex digits, optionally separated by spaces or colons: `0b 2a 00`.',
  },
  MEDGW_ERR_JSONL_LINE: {
    area: 'input',
    status: 400,
    message: 'A line given to `medgw decode --jsonl` is not a JSON object with "characteristic" and "hex".',
    hint: 'Write one object per line: {"characteristic":"2A18","hex":"…","driver":"…"}.',
  },
  MEDGW_ERR_CONFIG: {
    area: 'input',
    status: 400,
    message: 'The configuration is invalid.',
    hint: 'Fix the key named in the message (see the configuration reference in the README), then start again.',
  },

  // --- device knowledge: codecs and normalization ------------------------------------------
  MEDGW_ERR_UNKNOWN_CHARACTERISTIC: {
    area: 'drivers',
    status: 400,
    message: 'No codec knows this characteristic.',
    hint: 'Give a 16-bit UUID such as 2A18 or a name such as glucose-measurement; `medgw decode --list` shows them all.',
  },
  MEDGW_ERR_UNKNOWN_DRIVER: {
    area: 'drivers',
    status: 400,
    message: 'No driver definition has this id.',
    hint: 'List the driver ids with `medgw decode --list`, or leave --driver out to use the generic profile driver.',
  },
  MEDGW_ERR_FRAME_TRUNCATED: {
    area: 'drivers',
    status: 400,
    message: 'The frame is shorter than its flags announce.',
    hint: 'A field announced by a flag bit is missing: check the capture for a cut notification or a wrong flag.',
  },
  MEDGW_ERR_FRAME_TOO_LONG: {
    area: 'drivers',
    status: 400,
    message: 'The frame carries bytes after the last field its flags announce.',
    hint: 'The device may set a flag wrongly or use a vendor extension; a driver quirk can describe it.',
  },
  MEDGW_ERR_RESERVED_VALUE: {
    area: 'drivers',
    status: 400,
    message: 'The frame uses a value the specification reserves for future use.',
    hint: 'If a real device does this, describe it as a quirk in its driver definition (docs/adding-a-device.md).',
  },
  MEDGW_ERR_FLOAT_RANGE: {
    area: 'drivers',
    status: 400,
    message: 'The number cannot be encoded as an IEEE 11073 SFLOAT or FLOAT at this precision.',
    hint: 'Choose a smaller exponent or a mantissa within ±2045 (SFLOAT) or ±8388605 (FLOAT).',
  },
  MEDGW_ERR_DATETIME: {
    area: 'drivers',
    status: 400,
    message: 'The date and time fields are out of range.',
    hint: 'Month 1-12, day 1-31, hours 0-23, minutes and seconds 0-59; 0 in year, month or day means unknown.',
  },
  MEDGW_ERR_CGM_INSUFFICIENT_DATA: {
    area: 'drivers',
    status: 422,
    message:
      'A continuous glucose period holds fewer than 70 % of the sensor readings expected over its days: no mean glucose or GMI is computed for it (International Consensus on Time in Range, Diabetes Care 2019).',
    hint: 'Nothing is lost: the sensor readings stay on the gateway. Check that the sensor was worn and that the gateway collected its records; the next complete period is summarized and sent.',
  },
  MEDGW_ERR_CGM_POINT_LOCAL: {
    area: 'gateway',
    status: 202,
    message:
      'A continuous glucose sensor value is kept on the gateway, never sent on its own: Mon espace santé takes a CGM only as summaries over days (MED-969 mean glucose, MED-972 GMI), which the gateway computes from these values.',
    hint: 'Nothing to do: the value is not a reading to review. It is deleted once the summary of its period is acknowledged by Mon espace santé, or after `cgm.keepDays` days; the device page says how many are kept.',
  },
  MEDGW_ERR_CGM_CRC: {
    area: 'drivers',
    status: 400,
    message:
      'A Continuous Glucose Monitoring value fails its E2E-CRC (CGMS v1.0.1: CRC-CCITT, seed 0xFFFF), or lacks the E2E-CRC the CGM Feature announces.',
    hint: 'The bytes were corrupted between the sensor and the gateway, or the device computes its CRC differently: re-read the record (RACP) and keep the capture; the record is refused, never stored.',
  },
  MEDGW_ERR_LIFESCAN_FRAME: {
    area: 'drivers',
    status: 400,
    message:
      'A notification of the LifeScan OneTouch service is not a LifeScan frame (no STX 0x02, command prefix 0x03 or ETX 0x03 where the framing puts them, or a lone byte that is not the 0x81 acknowledgement).',
    hint: 'Keep the capture (`medgw decode AF9DF7A3E59511E396B40002A5D5C51B <hex>`); the answer is refused and the record is asked again at the next connection.',
  },
  MEDGW_ERR_LIFESCAN_CRC: {
    area: 'drivers',
    status: 400,
    message:
      'A LifeScan OneTouch frame fails its CRC (CRC-16 polynomial 0x1021 seeded 0xFFFF over STX…ETX, little-endian after ETX).',
    hint: 'The bytes were corrupted between the meter and the gateway: the answer is refused, never stored, and the record is asked again at the next connection.',
  },
  MEDGW_ERR_LIFESCAN_REFUSED: {
    area: 'drivers',
    status: 400,
    message: 'The LifeScan OneTouch meter answered a command with a status other than success (0x06).',
    hint: 'A meter that is not paired with this gateway refuses every command: pair it (`medgw pair <address>`) while it shows its pairing screen. Otherwise the message names the command and the status.',
  },
  MEDGW_ERR_CGM_OPS_INVALID: {
    area: 'drivers',
    status: 400,
    message: 'The CGM Specific Ops Control Point value has an operand that does not fit its op code.',
    hint: 'Each op code takes a fixed operand (CGMS v1.0.1: interval uint8, alert levels SFLOAT, calibration 10 octets, none for get/start/stop); fix the request or the capture.',
  },
  MEDGW_ERR_RACP_INVALID: {
    area: 'drivers',
    status: 400,
    message:
      'The Record Access Control Point value combines op code, operator and operand in a way GLS does not allow.',
    hint: 'Abort and responses take operator null; report, delete and count need an operator; ≤, ≥ and range need a filter with bounds in order.',
  },
  MEDGW_ERR_GLUCOSE_CONTEXT_MISMATCH: {
    area: 'drivers',
    status: 400,
    message: 'A glucose measurement context was merged with a measurement of another sequence number.',
    hint: 'Merge each 0x2A34 context with the 0x2A18 measurement that has the same sequence number.',
  },
  MEDGW_ERR_UNIT: {
    area: 'drivers',
    status: 400,
    message: 'The unit is not one this kind of reading may use.',
    hint: 'Use a UCUM unit listed for the kind in the payload schema (docs/mqtt-payloads.md).',
  },
  MEDGW_ERR_PAYLOAD_JSON: {
    area: 'mqtt',
    status: 400,
    message: 'The JSON payload does not follow the medgw reading schema.',
    hint: 'See docs/mqtt-payloads.md; the message names the first field that is wrong.',
  },
  MEDGW_ERR_PAYLOAD_CBOR: {
    area: 'mqtt',
    status: 400,
    message: 'The CBOR payload cannot be decoded or does not follow the medgw reading schema.',
    hint: 'Encode the same map as the JSON form (docs/mqtt-payloads.md) with a standard CBOR encoder.',
  },
  MEDGW_ERR_PAYLOAD_PROTOBUF: {
    area: 'mqtt',
    status: 400,
    message: 'The protobuf payload cannot be decoded as a medgw.v1.Reading or misses a required field.',
    hint: 'Encode a medgw.v1.Reading from drivers/mqtt/reading.proto.',
  },
  MEDGW_ERR_PAYLOAD_TOO_LARGE: {
    area: 'mqtt',
    status: 400,
    message: 'The payload is larger than a reading can be.',
    hint: 'Send one reading per message; the limit is 16 KiB.',
  },
  MEDGW_ERR_UDS_PARAMETER: {
    area: 'drivers',
    status: 400,
    message: 'A User Data Service control point parameter is out of range.',
    hint: 'Use a consent code from 0 to 9999 and a user index from 0 to 254 (255 means "unknown user").',
  },

  // --- quarantine reasons (a reading kept for a person to confirm, never sent silently) -----
  MEDGW_ERR_IMPLAUSIBLE_VALUE: {
    area: 'drivers',
    status: 400,
    message: 'The value is outside the plausible range for this kind of reading.',
    hint: 'Usually a device or unit error; confirm or discard the reading on the quarantine page.',
  },
  MEDGW_ERR_TIME_IMPOSSIBLE: {
    area: 'drivers',
    status: 400,
    message: 'The device time is impossible (unset clock, far past or in the future).',
    hint: 'Set the device clock; the reading keeps its original device time and is flagged untrusted.',
  },
  MEDGW_ERR_STATUS_SUPPRESSED: {
    area: 'drivers',
    status: 400,
    quarantine: 'discard-only',
    message: 'The device marked this measurement as invalid, for demonstration or for testing.',
    hint: 'The reading is not clinical; it is kept in quarantine for inspection and not forwarded.',
  },
  MEDGW_ERR_CONTROL_SOLUTION: {
    area: 'drivers',
    status: 400,
    quarantine: 'discard-only',
    message: 'The glucose sample is a control solution, not a patient result.',
    hint: 'Control-solution checks are never forwarded to the health record.',
  },
  MEDGW_ERR_DEVICE_REPORTED_INVALID: {
    area: 'drivers',
    status: 400,
    message:
      'The device reported that this value is not valid (sensor malfunction, sensor disconnected or not on the user, strip or temperature error, equipment fault, invalid or unavailable measurement).',
    hint: 'Check the device and measure again. The reason names the status bit; a person who knows the value is right may confirm it on the quarantine page, otherwise discard it.',
  },
  MEDGW_ERR_VALUE_ABSENT: {
    area: 'drivers',
    status: 400,
    quarantine: 'discard-only',
    message:
      'The device sent no value for this reading (an IEEE 11073 special value: NaN, NRes or infinity).',
    hint: 'The device could not measure; measure again. The reading is kept for inspection and can be discarded.',
  },
  MEDGW_ERR_GLUCOSE_BEYOND_RANGE: {
    area: 'drivers',
    status: 400,
    quarantine: 'discard-only',
    message:
      'Critical: the glucometer shows HI or LO (outside its measuring range) and sent no limit value that could be filed as "above" or "below".',
    hint: 'Contact the patient now: a HI or LO glucose needs care whatever the record says. The reading stays on the quarantine page and the overview until a person discards it.',
  },
  MEDGW_ERR_GLUCOSE_INTERSTITIAL: {
    area: 'drivers',
    status: 400,
    quarantine: 'discard-only',
    message:
      'The glucose value was measured in interstitial fluid (a sensor), not in blood; the health record takes interstitial glucose only as a summary over days.',
    hint: 'The value stays local for the provider view; it is never filed as a blood glucose.',
  },
  MEDGW_ERR_QUARANTINE_DISCARD_ONLY: {
    area: 'gateway',
    status: 409,
    message:
      'This quarantined reading cannot be confirmed: its device says it is not a patient result (control solution, demonstration or test data), or it holds nothing the health record can file.',
    hint: 'Discard it (quarantine page, `medgw quarantine discard <id>` or DELETE /api/v1/quarantine/<id>); measure again if a patient result is needed.',
  },
  MEDGW_ERR_TIME_UNCHECKED: {
    area: 'drivers',
    status: 400,
    message:
      'The time of this reading cannot be checked: the device says its clock is not set or at fault, or the time cannot be placed against the gateway clock.',
    hint: 'If the device clock showed the right local time, confirm the reading (its time is then read in the gateway time zone, `timezone`); otherwise discard it. Set the device clock to stop this.',
  },
  MEDGW_ERR_GLUCOSE_MOMENT_UNKNOWN: {
    area: 'drivers',
    status: 400,
    message:
      'The glucometer did not say when the sample was taken relative to a meal, and the health record needs that moment (no code means "unknown").',
    hint: 'State the moment on the quarantine page (`medgw quarantine confirm <id> --moment fasting|preprandial|postprandial|other`), or discard the reading.',
  },
  MEDGW_ERR_HOUSEHOLD_USER: {
    area: 'gateway',
    status: 400,
    message: 'The reading names a household user that is not mapped to a patient, or names none.',
    hint: 'Assign the device user index to a patient, then confirm the reading on the quarantine page.',
  },
  MEDGW_ERR_DEVICE_UNASSIGNED: {
    area: 'gateway',
    status: 400,
    message: 'The device belongs to no patient, so the reading cannot be attributed.',
    hint: 'Assign the device to a patient (`medgw devices assign`), then confirm the reading on the quarantine page.',
  },

  // --- gateway core: data directory, registry, lifecycle ------------------------------------
  MEDGW_ERR_DATADIR: {
    area: 'gateway',
    status: 500,
    message: 'The data directory cannot be created, read or written.',
    hint: 'Check the path given by --data-dir (or MEDGW_DATA_DIR) and that this user may write there.',
  },
  MEDGW_ERR_DATADIR_LOCKED: {
    area: 'gateway',
    status: 409,
    message: 'Another live medgw process holds the lock on this data directory.',
    hint: 'Stop the other process, or use another --data-dir; a lock left by a dead process is taken over automatically.',
  },
  MEDGW_ERR_REGISTRY_INVALID: {
    area: 'gateway',
    status: 400,
    message: 'The device or patient record is invalid.',
    hint: 'Ids use letters, digits and . _ : - (1 to 128 characters); fix the field named in the message.',
  },
  MEDGW_ERR_REGISTRY_UNKNOWN: {
    area: 'gateway',
    status: 404,
    message: 'No device or patient has this id in the registry.',
    hint: 'List what exists with `medgw devices list` or `medgw patients list`.',
  },
  MEDGW_ERR_REGISTRY_EXISTS: {
    area: 'gateway',
    status: 409,
    message: 'A device or patient with this id already exists.',
    hint: 'Choose another id, or remove the existing one first.',
  },
  MEDGW_ERR_REGISTRY_IN_USE: {
    area: 'gateway',
    status: 409,
    message: 'The patient is still assigned to a device or a household user.',
    hint: 'Assign those devices to another patient (`medgw devices assign`) or remove them first.',
  },
  MEDGW_ERR_REGISTRY_CORRUPT: {
    area: 'gateway',
    status: 500,
    message: 'The registry file cannot be read as a medgw registry.',
    hint: 'Restore registry.json from a backup of the data directory; medgw never overwrites a file it cannot read.',
  },
  MEDGW_ERR_START_FAILED: {
    area: 'gateway',
    status: 500,
    message: 'A component failed to start; the components already started were stopped again.',
    hint: 'Read the cause in the message (often a port in use or a missing device); fix it and start again.',
  },
  MEDGW_ERR_INTERNAL: {
    area: 'gateway',
    status: 500,
    message: 'An unexpected failure happened inside the gateway.',
    hint: 'Look for the matching line in the gateway log (it carries the cause); report it with that line.',
  },
  MEDGW_ERR_FATAL: {
    area: 'gateway',
    status: 500,
    message:
      'An error escaped every handler (an unhandled promise rejection or an uncaught exception); the gateway stopped its components in order and exited.',
    hint: 'Read the fatal log line (it carries the cause and stack), report it with that line, then start the gateway again: nothing acknowledged was lost.',
  },
  MEDGW_ERR_ADMIN_UNREACHABLE: {
    area: 'gateway',
    status: 503,
    message: 'The gateway holding this data directory does not answer on its admin API.',
    hint: 'Check that the gateway process is healthy (its log), or stop it and run the command again.',
  },

  // --- MQTT ingest: embedded broker and external broker ---------------------------------------
  MEDGW_ERR_MQTT_AUTH: {
    area: 'mqtt',
    status: 400,
    message:
      'The MQTT connection was refused: unknown device, wrong secret, client id different from the username, or a will message.',
    hint: 'Connect with client id = username = the device id and the secret printed by `medgw devices add --transport mqtt`.',
  },
  MEDGW_ERR_MQTT_RATE_LIMITED: {
    area: 'mqtt',
    status: 400,
    message:
      'The device sent more messages than its rate limit allows; this one was not stored (QoS 1: no PUBACK, it stays in the session). A device that keeps exceeding the limit is disconnected and may reconnect only after a back-off.',
    hint: 'Send at most mqtt.rateLimit.perSecond messages a second (bursts up to mqtt.rateLimit.burst), wait for each PUBACK, and reconnect after the back-off; raise the limits only for a device that truly measures that often.',
  },
  MEDGW_ERR_MQTT_AUTH_BUSY: {
    area: 'mqtt',
    status: 400,
    message:
      'The MQTT connection was refused before its secret was checked: too many checks are waiting, or this device id or address failed too often and is in back-off.',
    hint: 'Reconnect later with exponential back-off and the right secret; a device that connected before with its secret is let in at once.',
  },
  MEDGW_ERR_MQTT_TOPIC: {
    area: 'mqtt',
    status: 400,
    message: 'The device may not publish or subscribe on this topic.',
    hint: 'Publish to medgw/v1/devices/<own id>/measurements/json|cbor|protobuf and subscribe only to medgw/v1/devices/<own id>/receipts.',
  },
  MEDGW_ERR_MQTT_BROKER: {
    area: 'mqtt',
    status: 400,
    message: 'The external MQTT broker cannot be reached or refused the gateway.',
    hint: 'Check mqtt.external.url, the gateway credentials and TLS settings; the broker must speak MQTT 5 for shared subscriptions.',
  },
  MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE: {
    area: 'mqtt',
    status: 503,
    message:
      "The broker's dynamic-security plugin gave no answer: the broker cannot be reached, or nothing came back on $CONTROL/dynamic-security/v1/response in time. The device was neither added nor removed in the registry.",
    hint: 'Check mqtt.external.url and that Mosquitto loads mosquitto_dynamic_security.so, then run the command again (it is safe to repeat); see docs/deploy.md, "Many gateways".',
  },
  MEDGW_ERR_MQTT_DYNSEC_REFUSED: {
    area: 'mqtt',
    status: 502,
    message:
      "The broker's dynamic-security plugin refused a command: wrong admin credentials, an admin client without rights on $CONTROL/dynamic-security/#, or a broker client or role of that name that medgw did not create. The registry was not changed.",
    hint: "Read the plugin's answer in the message; check mqtt.external.dynsec.adminUser and its password (MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_PASSWORD or adminPasswordFile); remove a foreign client with `mosquitto_ctrl dynsec deleteClient <id>`.",
  },
  MEDGW_ERR_PIPELINE_STOPPED: {
    area: 'gateway',
    status: 503,
    message: 'The gateway is stopping and accepts no new reading.',
    hint: 'The device keeps the reading (no acknowledgement was sent) and sends it again once the gateway is back.',
  },
  MEDGW_ERR_PIPELINE_FAILED: {
    area: 'gateway',
    status: 500,
    message: 'The gateway could not normalize this reading because of an internal fault; it was not stored.',
    hint: 'Report it with the device model and payload (`medgw decode --mqtt …` reproduces it); the refusal is audited and counted.',
  },

  // --- journal: outbox, cursors, audit -------------------------------------------------------
  MEDGW_ERR_JOURNAL_STATE: {
    area: 'journal',
    status: 409,
    message: 'The reading is not in the state this transition starts from, or the transition is not allowed.',
    hint: 'Read the reading again (`medgw outbox list`). Allowed: pending→in-flight|held|quarantined|dead-letter, in-flight→delivered|pending|held|dead-letter, quarantined→pending|held|dead-letter, held→pending|dead-letter, dead-letter→pending.',
  },
  MEDGW_ERR_JOURNAL_UNKNOWN_READING: {
    area: 'journal',
    status: 404,
    message: 'No reading with this id is in the journal.',
    hint: 'List readings with `medgw outbox list`; ids are the deterministic reading ids.',
  },
  MEDGW_ERR_JOURNAL_FULL: {
    area: 'journal',
    status: 507,
    message:
      'The journal reached its size limit or the disk is full; new readings are refused, nothing was evicted.',
    hint: 'Restore the link to the national side so readings drain, raise journal.maxReadings / journal.maxBytes, or free disk space.',
  },
  MEDGW_ERR_JOURNAL_INVALID: {
    area: 'journal',
    status: 400,
    message: 'The reading or audit entry offered to the journal is malformed.',
    hint: 'Fix the field named in the message; audit entries never carry measured values.',
  },
  MEDGW_ERR_OPERATOR_DISCARDED: {
    area: 'journal',
    status: 400,
    outcome: 'dead-letter',
    message: 'An operator discarded this reading; its values were purged and it will not be sent.',
    hint: 'Nothing to do; the audit log keeps when it was discarded (`medgw audit list --reading <id>`).',
  },
  MEDGW_ERR_JOURNAL_CORRUPT: {
    area: 'journal',
    status: 500,
    message:
      'The journal file is damaged (SQLite finds a malformed page), or is empty (0 bytes) while the data directory is not new; medgw refuses it rather than start over with an empty history.',
    hint: 'Stop the gateway and keep a copy of the data directory; restore journal.db from a backup, or move journal.db aside to start a new, empty journal (its history is then lost). medgw never repairs nor overwrites it.',
  },
  MEDGW_ERR_JOURNAL_OPEN: {
    area: 'journal',
    status: 503,
    message: 'The journal database cannot be opened, or is no longer open (closed, or its thread stopped).',
    hint: 'Check the data directory permissions and free space; restore journal.db from a backup if it is damaged. If the journal thread stopped, restart the gateway: nothing was acknowledged that was not stored, devices send again.',
  },

  MEDGW_ERR_STORAGE_UNREACHABLE: {
    area: 'journal',
    status: 503,
    message: 'The PostgreSQL storage (storage.url) cannot be reached, or refused the connection.',
    hint: 'Check storage.url (host, port, database, user, password) and that PostgreSQL accepts connections from this host (pg_hba.conf); `psql "<storage.url>" -c "select 1"` tells the same thing.',
  },
  MEDGW_ERR_STORAGE_SCHEMA_NEWER: {
    area: 'journal',
    status: 500,
    message: 'The PostgreSQL schema was written by a newer medgw than this one.',
    hint: 'Run the same or a newer medgw version on every instance that shares this database; medgw never downgrades a schema.',
  },

  // --- admin API ----------------------------------------------------------------------------
  MEDGW_ERR_ADMIN_UNAUTHORIZED: {
    area: 'http',
    status: 401,
    message: 'The admin API request has no valid bearer token.',
    hint: 'Send `Authorization: Bearer <token>` with the token from admin-token in the data directory.',
  },
  MEDGW_ERR_ADMIN_BAD_REQUEST: {
    area: 'http',
    status: 400,
    message: 'The admin API request body or parameters are invalid.',
    hint: 'Fix the field named in the message; the admin API takes and returns JSON.',
  },
  MEDGW_ERR_ADMIN_NOT_FOUND: {
    area: 'http',
    status: 404,
    message: 'The admin API has no such route.',
    hint: 'Check the path and method; `GET /api/v1` lists the routes.',
  },
  // --- local web pages ----------------------------------------------------------------------
  MEDGW_ERR_WEB_UNAUTHENTICATED: {
    area: 'http',
    status: 401,
    message: 'The page or API needs a signed-in session or a provider API token.',
    hint: 'Sign in at /login with the admin password printed at first start, or send `Authorization: Bearer <API token>`.',
  },
  MEDGW_ERR_WEB_LOGIN: {
    area: 'http',
    status: 401,
    message: 'The admin password is wrong.',
    hint: 'Type the password given at first start (terminal, or admin-password.txt in the data directory until the first sign-in); if it is lost, stop the gateway and run `medgw admin reset-password`.',
  },
  MEDGW_ERR_WEB_CSRF: {
    area: 'http',
    status: 403,
    message: 'The form was sent without the anti-forgery token of the current session.',
    hint: 'Reload the page and send the form again; forms must come from the gateway’s own pages.',
  },
  MEDGW_ERR_WEB_FORM: {
    area: 'http',
    status: 400,
    message: 'A form field is missing or invalid.',
    hint: 'Correct the field named in the message and send the form again.',
  },
  MEDGW_ERR_WEB_PASSWORD: {
    area: 'http',
    status: 500,
    message: 'The admin password file cannot be used, or the new password is too short.',
    hint: 'Check web-admin.json in the data directory (mode 0600); a password needs at least 12 characters.',
  },
  MEDGW_ERR_WEB_TOKEN: {
    area: 'http',
    status: 500,
    message: 'The provider API token file cannot be read.',
    hint: 'Check web-api-tokens.json in the data directory; delete it to revoke every token.',
  },
  MEDGW_ERR_WEB_UNAVAILABLE: {
    area: 'http',
    status: 503,
    message:
      'The action needs a component that is not running on this gateway (Bluetooth or the national side).',
    hint: 'Start the gateway with `--ble sim|hci|dbus` or configure the national side, then try again.',
  },
  // --- national side (Mon espace santé): pairing, tokens, measurements API ------------------
  MEDGW_ERR_PAIRING_EXPIRED: {
    area: 'cloud',
    status: 400,
    message: 'The pairing code expired before the patient approved it.',
    hint: 'Run `medgw patient link <patientId>` again and approve within the time shown.',
  },
  MEDGW_ERR_PAIRING_DENIED: {
    area: 'cloud',
    status: 400,
    message: 'The patient refused the pairing on the national side.',
    hint: 'Nothing is sent for this patient; link again if the refusal was a mistake.',
  },
  MEDGW_ERR_PAIRING_STATE: {
    area: 'cloud',
    status: 400,
    message:
      'The pairing answer does not match the request this gateway started (state, nonce or PKCE check failed).',
    hint: 'Start the link again from the patient page; do not reuse an old or bookmarked link.',
  },
  MEDGW_ERR_PAIRING_CLAIMS: {
    area: 'cloud',
    status: 400,
    message: 'The ID token lacks the patient idPe or the pairing or solution OID claims.',
    hint: 'Check the claim names in the pairing configuration (cloud.pairing.claims) against the provider.',
  },
  MEDGW_ERR_PAIRING_FAILED: {
    area: 'cloud',
    status: 400,
    message: 'The pairing provider refused or could not complete an OAuth request.',
    hint: 'Check the issuer URL, client id, secret and scopes of the pairing configuration; the message names the OAuth error.',
  },
  MEDGW_ERR_NOT_LINKED: {
    area: 'cloud',
    status: 400,
    outcome: 'hold-patient',
    message: 'The patient has no pairing link with Mon espace santé.',
    hint: 'Link the patient with `medgw patient link <patientId>` (or from the patient page).',
  },
  MEDGW_ERR_REAUTH_REQUIRED: {
    area: 'cloud',
    status: 400,
    outcome: 'hold-patient',
    message: 'The national side refused the refresh token: the pairing must be renewed.',
    hint: 'Readings are held; link the patient again with `medgw patient link <patientId>`.',
  },
  MEDGW_ERR_TOKEN_KEY: {
    area: 'cloud',
    status: 500,
    message: 'The token encryption key is missing, has the wrong length or is readable by others.',
    hint: 'Give 32 bytes as 64 hex digits in MEDGW_TOKEN_KEY, or let medgw create <data-dir>/token.key (mode 0600).',
  },
  MEDGW_ERR_TOKEN_STORE: {
    area: 'cloud',
    status: 500,
    message: 'The encrypted token store cannot be read with this key (wrong key or altered file).',
    hint: 'Restore the key that encrypted it, or remove tokens.enc and link the patients again.',
  },
  MEDGW_ERR_MES_REJECTED: {
    area: 'cloud',
    status: 400,
    outcome: 'dead-letter',
    answer: { status: [400, 404, 409, 412, 422] },
    message: 'The national side rejected the reading (400, 409 or 422); it is kept as a dead letter.',
    hint: 'The message quotes the national code and text; fix the cause, then `medgw outbox retry <id>`.',
  },
  MEDGW_ERR_MES_CONSENT: {
    area: 'cloud',
    status: 400,
    outcome: 'hold-patient',
    answer: { status: [403] },
    message: 'The patient has not given, or has withdrawn, consent for this solution to write measurements.',
    hint: "The patient's readings are held; the patient can consent again on Mon espace santé, otherwise they are purged after the grace period.",
  },
  MEDGW_ERR_MES_IDPE_MISMATCH: {
    area: 'cloud',
    status: 400,
    outcome: 'hold-patient',
    answer: { status: [403], text: /idPe/i },
    message: 'The idPe of the reading does not match the idPe the patient authorized.',
    hint: 'The patient link is inconsistent; unlink and link the patient again.',
  },
  MEDGW_ERR_MES_UNAUTHORIZED: {
    area: 'cloud',
    status: 400,
    outcome: 'hold-patient',
    answer: { status: [401] },
    message: 'The national side refused the access token even after a refresh.',
    hint: 'Link the patient again; if it persists, check the client credentials of the pairing configuration.',
  },
  MEDGW_ERR_MES_UNAVAILABLE: {
    area: 'cloud',
    status: 400,
    outcome: 'retry',
    answer: { status: [429, 500, 501, 502, 503, 504] },
    message: 'The national side did not answer, or answered 5xx or 429: the reading will be retried.',
    hint: 'Nothing to do unless it lasts; retries use exponential backoff and the next attempt time is in `medgw outbox list`.',
  },
  MEDGW_ERR_MES_NO_ANSWER: {
    area: 'cloud',
    status: 400,
    outcome: 'retry',
    message:
      'The connection ended before the national side answered: the reading may or may not have arrived.',
    hint: 'Nothing to do: before sending it again the gateway searches the patient observations for it.',
  },
  MEDGW_ERR_MES_CIRCUIT_OPEN: {
    area: 'cloud',
    status: 400,
    outcome: 'retry',
    message: 'Sending is paused after repeated failures of the national side (circuit breaker open).',
    hint: 'Sending resumes on its own after the pause; check the network and the national-side status.',
  },
  MEDGW_ERR_MES_PROTOCOL: {
    area: 'cloud',
    status: 400,
    outcome: 'retry',
    message: 'The national side answered something the measurements API does not document.',
    hint: 'The message quotes the status and body; the reading is retried later.',
  },
  MEDGW_ERR_BUNDLE_NOT_SENDABLE: {
    area: 'cloud',
    status: 400,
    outcome: 'dead-letter',
    message:
      'This reading cannot be sent to Mon espace santé (BMI, lone panel component, absent value or no trustworthy time).',
    hint: 'The national side refuses it; it stays in the journal as a dead letter with this reason and is audited.',
  },
  MEDGW_ERR_CONSENT_LOCAL: {
    area: 'cloud',
    status: 400,
    outcome: 'hold-reading',
    message: 'The patient has not chosen to send this kind of reading to Mon espace santé.',
    hint: "Readings of this kind are held; change the patient's choices (`medgw patient status`) to release them.",
  },
  MEDGW_ERR_HELD_EXPIRED: {
    area: 'cloud',
    status: 400,
    outcome: 'dead-letter',
    message: 'A reading held for missing consent passed the grace period and its values were purged.',
    hint: 'The audit log keeps the reading id, kind and device; the values cannot be recovered.',
  },

  // --- Bluetooth LE: virtual radio and simulated peripherals -----------------------------------
  MEDGW_ERR_BLE_ADAPTER_OFF: {
    area: 'ble',
    status: 400,
    message: 'The Bluetooth adapter is powered off, so no scan or connection can start.',
    hint: 'Power the adapter on (`bluetoothctl power on`, or `radio.powerOn()` on the virtual radio) and retry.',
  },
  MEDGW_ERR_BLE_UNREACHABLE: {
    area: 'ble',
    status: 400,
    message: 'The peripheral is not in range, not advertising or already connected to another central.',
    hint: 'Wake the device (take a measurement or press its Bluetooth button) and connect while it advertises.',
  },
  MEDGW_ERR_BLE_NOT_CONNECTED: {
    area: 'ble',
    status: 400,
    message: 'The GATT operation names a peripheral that is not connected.',
    hint: 'Connect first; after a link loss, reconnect and re-enable notifications and indications.',
  },
  MEDGW_ERR_BLE_ATT: {
    area: 'ble',
    status: 400,
    message: 'The peripheral answered the GATT operation with an ATT error.',
    hint: 'The message names the ATT error (e.g. 0xFD CCCD improperly configured: enable indications first).',
  },
  MEDGW_ERR_BLE_UNAVAILABLE: {
    area: 'ble',
    status: 503,
    message:
      'The Bluetooth bindings could not be loaded or no adapter answered, so the BLE central stays idle.',
    hint: 'Check the adapter (`bluetoothctl show`), the permissions (CAP_NET_RAW for hci) and ble.mode; use `--ble off` or `--ble sim` on a machine without Bluetooth.',
  },
  MEDGW_ERR_BLE_NOT_DISCOVERED: {
    area: 'ble',
    status: 400,
    message: 'The device to pair has not been seen advertising a health service this gateway reads.',
    hint: 'Wake the device (take a measurement or hold its Bluetooth button), check `medgw devices list` shows it as discovered, then pair again.',
  },
  MEDGW_ERR_BLE_GATEWAY_NOT_RUNNING: {
    area: 'ble',
    status: 503,
    message:
      'Pairing and listing nearby Bluetooth devices need the radio, which only a running gateway holds.',
    hint: 'Start the gateway on this data directory (`medgw start`, or `npm start` for the demo), then run the command again.',
  },
  MEDGW_ERR_BLE_OFF: {
    area: 'ble',
    status: 503,
    message: 'The running gateway has no BLE central (ble.mode is off), so it cannot scan or pair.',
    hint: 'Restart the gateway with `--ble auto` (or hci, dbus, sim) to scan for and pair Bluetooth devices.',
  },
  MEDGW_ERR_BLE_WEIGHT_UNSUCCESSFUL: {
    area: 'ble',
    status: 400,
    message:
      'The scale reported an unsuccessful weighing (Weight 0xFFFF, "Measurement Unsuccessful"): there is no weight to forward.',
    hint: 'Nothing is lost: the person steps on the scale again and stands still until the weight shows; the count is in the device session counters.',
  },
  MEDGW_ERR_BLE_COMPOSITION_PLACEHOLDER: {
    area: 'ble',
    status: 400,
    message:
      'The scale sent a body composition record with every value at zero: a placeholder beside a stored weight, not a measurement.',
    hint: 'Nothing is lost: the weight of that weighing is kept; body composition needs the person to stand barefoot on the electrodes. The count is in the device session counters.',
  },
  MEDGW_ERR_BLE_LINK_LOST: {
    area: 'ble',
    status: 400,
    message: 'The Bluetooth link was lost in the middle of a connection procedure or a record transfer.',
    hint: 'Nothing is lost: committed records stay committed and the transfer resumes after the stored cursor at the next connection. Bring the device closer if it repeats.',
  },
  MEDGW_ERR_BLE_TIMEOUT: {
    area: 'ble',
    status: 400,
    message: 'The device did not answer a connection or GATT step in time.',
    hint: 'The gateway retries with backoff. Keep the device awake and in range; if it repeats, forget and re-pair it.',
  },
  MEDGW_ERR_BLE_BONDING: {
    area: 'ble',
    status: 400,
    message: 'Pairing (bonding) with the device failed.',
    hint: 'Put the device in pairing mode (and type the code it displays for passkey devices), then `medgw devices pair <address>` again.',
  },
  MEDGW_ERR_BLE_PROFILE: {
    area: 'ble',
    status: 400,
    message: 'The device lacks a characteristic its profile makes mandatory, so it cannot be read.',
    hint: 'The message names the missing characteristic; the device may need a model-specific driver (docs/adding-a-device.md).',
  },
  MEDGW_ERR_BLE_RACP: {
    area: 'ble',
    status: 400,
    message: 'The record access control point answered the record request with an error.',
    hint: 'The message names the RACP response code; the transfer is retried at the next connection from the stored cursor.',
  },
  MEDGW_ERR_BLE_UDS_CONSENT: {
    area: 'ble',
    status: 400,
    message: 'The scale refused the User Data Service registration or consent of a household user.',
    hint: 'A refused consent means the stored consent code is stale: forget and re-pair the scale with the person on it, or free a user slot on the scale.',
  },
  MEDGW_ERR_BLE_PASSKEY_WRONG: {
    area: 'ble',
    status: 400,
    message: 'The device refused the pairing: the code typed did not match the one it displays.',
    hint: 'Put the device in pairing mode again, pair again and type the 6 digits exactly as the device shows them (the code changes at every attempt).',
  },
  MEDGW_ERR_BLE_PAIRING_REFUSED: {
    area: 'ble',
    status: 400,
    message: 'The pairing was refused: the device rejected it, or the numbers compared did not match.',
    hint: 'Put the device in pairing mode (see its manual or the pair page), then pair again; refuse only if the numbers shown on the device and here differ. A device that only supports legacy pairing is also refused when BlueZ runs in Secure Connections Only mode: then set SecureConnections = on in /etc/bluetooth/main.conf.',
  },
  MEDGW_ERR_BLE_LEGACY_PAIRING: {
    area: 'ble',
    status: 400,
    message:
      'The Bluetooth adapter refused to pair: this device only supports LE legacy pairing, and BlueZ runs in Secure Connections Only mode.',
    hint: 'This device only supports legacy pairing: set SecureConnections = on in /etc/bluetooth/main.conf ([General] section), restart bluetooth (sudo systemctl restart bluetooth), then pair again.',
  },
  MEDGW_ERR_BLE_PAIRING_TIMEOUT: {
    area: 'ble',
    status: 400,
    message: 'The pairing was abandoned: no code was typed or confirmed in time, or it was cancelled.',
    hint: 'Pair again and type the code shown on the device within the time shown on the pair page or in `medgw pair`.',
  },
  MEDGW_ERR_BLE_NOT_BONDED: {
    area: 'ble',
    status: 400,
    message: 'The device answers only once it is paired (bonded) with this gateway, and it is not.',
    hint: 'Pair it (`medgw pair <address>` or the pair page) while the device is in pairing mode.',
  },
  MEDGW_ERR_BLE_BOND_LOST: {
    area: 'ble',
    status: 400,
    message:
      'The device no longer knows this gateway (it was reset or its pairings were cleared), so the stored pairing key is refused.',
    hint: 'Pair it again: "Pair again" on the devices page or `medgw pair <address> --again` removes the old pairing from Bluetooth and pairs anew; readings already received are kept.',
  },
  MEDGW_ERR_BLE_AGENT: {
    area: 'ble',
    status: 503,
    message: 'The pairing agent could not be registered with BlueZ (org.bluez.AgentManager1).',
    hint: 'Check that bluetoothd runs (`systemctl status bluetooth`) and that the gateway may talk to org.bluez on the system bus (docs/deploy.md, Bluetooth).',
  },
  MEDGW_ERR_BLE_NO_PROMPT: {
    area: 'ble',
    status: 409,
    message: 'A pairing code was given for a device that is not waiting for one.',
    hint: 'Start the pairing first (`medgw pair <address>` or the pair page); the code is asked for when the device shows it.',
  },
  MEDGW_ERR_SIM_DBUS: {
    area: 'ble',
    status: 500,
    message: 'The private D-Bus daemon for the fake BlueZ could not be started.',
    hint: 'Install the Debian package dbus (`apt-get install dbus`, which provides /usr/bin/dbus-daemon); `.ci/run` installs it.',
  },
  MEDGW_ERR_SIM_OPTION: {
    area: 'ble',
    status: 400,
    message: 'A simulated device was given an option or a reading it cannot represent.',
    hint: 'See docs/simulators.md for the options of each simulated device and the ranges of their fields.',
  },
  // --- the Mon espace santé sandbox (simulators/sandbox) -------------------------------------
  MEDGW_ERR_SANDBOX_REQUEST: {
    area: 'sandbox',
    status: 400,
    message: 'A request to the sandbox control endpoints (/_sandbox/*) or a sandbox option is invalid.',
    hint: 'See docs/sandbox.md for the fields of faults and client registrations; the message names the wrong one.',
  },
  MEDGW_ERR_SANDBOX_PORT: {
    area: 'sandbox',
    status: 400,
    message: 'The embedded sandbox of `medgw start` could not listen on its port.',
    hint: 'Another program (an earlier `medgw start` or `medgw sandbox`?) holds it: stop it, or pick another port with `--sandbox-port <n>` (0 = any free port), or set national.baseUrl to use a sandbox already running.',
  },
  MEDGW_ERR_SANDBOX_BROWSER: {
    area: 'sandbox',
    status: 400,
    message: 'The scripted patient browser did not find the page or form it expected in the sandbox.',
    hint: 'Check the user code, the test identity and that the flow was started; the message names the step.',
  },
} as const satisfies Record<`MEDGW_ERR_${string}`, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The error every medgw module throws or returns: a stable code, a specific message and the hint. */
export class MedgwError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  /** `catalogue`: where the hint is read, the catalogue itself unless a copy is given (tests). */
  constructor(
    code: ErrorCode,
    message?: string,
    details?: Record<string, unknown>,
    catalogue: Catalogue = ERROR_CATALOGUE,
  ) {
    const entry: ErrorEntry = catalogue[code] ?? ERROR_CATALOGUE.MEDGW_ERR_INTERNAL;
    super(message ?? entry.message);
    this.name = 'MedgwError';
    this.code = code;
    this.hint = entry.hint;
    this.details = details;
  }

  /** The shape written to JSON outputs and API answers. */
  toJSON(): { code: ErrorCode; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

/** HTTP status of an answer refusing with `code` (500 for a code the catalogue does not hold). */
export function httpStatusOf(code: string, catalogue: Catalogue = ERROR_CATALOGUE): number {
  return catalogue[code]?.status ?? 500;
}

/** What happens to a reading the national side answered with `code`; undefined when it is not a national answer. */
export function nationalOutcomeOf(
  code: string,
  catalogue: Catalogue = ERROR_CATALOGUE,
): NationalOutcome | undefined {
  return catalogue[code]?.outcome;
}

/**
 * The code the catalogue gives a national-side answer (HTTP status and body text), or undefined when no
 * entry names it. An entry with a text that matches wins over an entry without text.
 */
export function nationalCodeFor(
  status: number,
  text: string,
  catalogue: Catalogue = ERROR_CATALOGUE,
): ErrorCode | undefined {
  let plain: string | undefined;
  for (const [code, entry] of Object.entries(catalogue)) {
    if (!entry.answer?.status.includes(status)) continue;
    if (entry.answer.text === undefined) plain ??= code;
    else if (entry.answer.text.test(text)) return code as ErrorCode;
  }
  // a copy of the catalogue may hold codes this build does not name: they travel as codes all the same
  return plain as ErrorCode | undefined;
}

/**
 * Whether a string read from outside (JSON, a database row, a worker message) is a code of this
 * catalogue: the checked way to narrow it to ErrorCode, instead of a cast.
 */
export function isErrorCode(s: string | null | undefined): s is ErrorCode {
  return typeof s === 'string' && Object.hasOwn(ERROR_CATALOGUE, s);
}

export function isMedgwError(e: unknown): e is MedgwError {
  return e instanceof MedgwError;
}
