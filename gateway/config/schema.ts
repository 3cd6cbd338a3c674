/**
 * The one configuration schema. The `Config` type, the environment variable names, the command-line
 * overrides and docs/configuration.md (`npm run gen`) are all derived from it.
 */
import { z } from 'zod';
import { DEFAULT_PROFILE_GENERATION, PROFILE_GENERATIONS } from '../../cloud-bridge/biology-bundle.ts';

const port = (what: string, dflt: number) =>
  z.number().int().min(0).max(65535).default(dflt).describe(`${what} (0 picks a free port).`);

/** The system's time zone (TZ, /etc/localtime) as ICU resolves it: the default of `timezone`. */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const ConfigSchema = z
  .strictObject({
    dataDir: z
      .string()
      .min(1)
      .default('./.medgw')
      .describe(
        'Directory holding the registry, the journal, the lock and the admin token of this instance.',
      ),
    timezone: z
      .string()
      .refine(isTimeZone, { message: 'an IANA time zone name such as Europe/Paris' })
      .optional()
      .transform((tz) => tz ?? systemTimeZone())
      .describe(
        'Time zone of device clocks that send local time without a zone (IANA name); its rules at each reading’s own date separate a clock’s drift from summer time. Default: the system time zone.',
      ),
    log: z
      .strictObject({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('Lowest level written to the log.'),
      })
      .prefault({})
      .describe('Logging (JSON lines on standard output; values, identities and secrets are redacted).'),
    mqtt: z
      .strictObject({
        mode: z
          .enum(['embedded', 'external', 'off'])
          .default('embedded')
          .describe(
            'embedded: run the MQTT broker in the gateway; external: connect to a broker it does not own.',
          ),
        host: z.string().min(1).default('0.0.0.0').describe('Address the embedded broker listens on.'),
        port: port('TCP port of the embedded broker', 1883),
        tls: z
          .strictObject({
            cert: z
              .string()
              .min(1)
              .optional()
              .describe('PEM certificate file; with key, enables the TLS listener.'),
            key: z.string().min(1).optional().describe('PEM private key file of the TLS listener.'),
            port: port('Port of the embedded TLS listener', 8883),
          })
          .prefault({})
          .describe('Optional TLS listener of the embedded broker.'),
        external: z
          .strictObject({
            url: z.url().optional().describe('Broker URL in external mode (mqtt://, mqtts://).'),
            username: z
              .string()
              .optional()
              .describe('User name the gateway presents to the external broker.'),
            password: z
              .string()
              .optional()
              .describe('Password the gateway presents (prefer MEDGW_MQTT_EXTERNAL_PASSWORD).'),
            group: z
              .string()
              .regex(/^[A-Za-z0-9_-]+$/)
              .default('medgw')
              .describe('Shared-subscription group, so several gateway instances share the load.'),
            clientId: z
              .string()
              .regex(/^[A-Za-z0-9_.-]{1,60}$/)
              .optional()
              .describe(
                'Client id of this instance at the broker (its connections are <clientId>-1…n); default medgw-<group>-<hostname>. Unique per instance and stable across restarts: the broker keeps what this instance has not acknowledged in that session.',
              ),
            connections: z
              .number()
              .int()
              .min(1)
              .max(64)
              .default(4)
              .describe(
                'Connections this instance opens in the shared group. Each carries one unacknowledged message at a time, so an instance commits at most this many messages together: raise it when the journal is remote (PostgreSQL) and its commits take milliseconds.',
              ),
            dynsec: z
              .strictObject({
                adminUser: z
                  .string()
                  .min(1)
                  .optional()
                  .describe(
                    "Mosquitto dynamic-security admin client; when set, `medgw devices add/forget` create and delete each MQTT device's broker client and topic role, and `medgw start` gives the gateway user its role.",
                  ),
                adminPassword: z
                  .string()
                  .min(1)
                  .optional()
                  .describe(
                    'Password of the admin client (prefer MEDGW_MQTT_EXTERNAL_DYNSEC_ADMIN_PASSWORD or adminPasswordFile); never logged.',
                  ),
                adminPasswordFile: z
                  .string()
                  .min(1)
                  .optional()
                  .describe(
                    'File holding the admin password (first line), read at each use, e.g. a systemd credential.',
                  ),
                timeoutMs: z
                  .number()
                  .int()
                  .min(100)
                  .default(5_000)
                  .describe(
                    'How long to wait for the broker and for each answer on $CONTROL/dynamic-security/v1/response before refusing with MEDGW_ERR_MQTT_DYNSEC_UNREACHABLE.',
                  ),
              })
              .prefault({})
              .refine(
                (d) =>
                  d.adminUser === undefined ||
                  (d.adminPassword === undefined) !== (d.adminPasswordFile === undefined),
                {
                  message: 'with adminUser, give exactly one of adminPassword or adminPasswordFile',
                  path: ['adminPassword'],
                },
              )
              .describe(
                "Mosquitto's dynamic-security plugin: the broker authenticates each device with the secret medgw generates.",
              ),
          })
          .prefault({})
          .describe('External broker (MQTT 5 shared subscriptions).'),
        rateLimit: z
          .strictObject({
            perSecond: z
              .number()
              .positive()
              .default(20)
              .describe('Messages a device may publish per second, on average (token bucket refill).'),
            burst: z
              .number()
              .int()
              .min(1)
              .default(200)
              .describe('Messages a device may publish at once after a quiet time (token bucket size).'),
            disconnectAfter: z
              .number()
              .int()
              .min(1)
              .default(100)
              .describe(
                'Messages over the limit (QoS 0: dropped with a MEDGW_ERR_MQTT_RATE_LIMITED receipt; QoS 1: not acknowledged, the connection is closed) within 10 s before the device is disconnected and must back off.',
              ),
            backoffSeconds: z
              .number()
              .positive()
              .default(10)
              .describe(
                'Back-off before a device disconnected for its rate may connect again; doubles with each new disconnection.',
              ),
            maxBackoffSeconds: z
              .number()
              .positive()
              .default(600)
              .describe(
                'Longest rate back-off; a device quiet for that long starts again from backoffSeconds.',
              ),
          })
          .prefault({})
          .describe('Per-device rate limit of the embedded broker (token bucket).'),
        auth: z
          .strictObject({
            maxPending: z
              .number()
              .int()
              .min(1)
              .default(256)
              .describe(
                'Connections that may wait for their secret check; beyond it new ones are refused at once (MEDGW_ERR_MQTT_AUTH_BUSY).',
              ),
            failuresBeforeBackoff: z
              .number()
              .int()
              .min(1)
              .default(5)
              .describe(
                'Wrong secrets for one device id, or from one address, before that id or address must back off.',
              ),
            backoffSeconds: z
              .number()
              .positive()
              .default(1)
              .describe('First authentication back-off; doubles with each further failure.'),
            maxBackoffSeconds: z
              .number()
              .positive()
              .default(300)
              .describe('Longest authentication back-off.'),
          })
          .prefault({})
          .describe(
            'Secret guessing limits of the embedded broker. A device that connected before with its secret is let in at once, back-off or not.',
          ),
      })
      .prefault({})
      .describe('MQTT ingest.'),
    ble: z
      .strictObject({
        mode: z
          .enum(['auto', 'sim', 'hci', 'dbus', 'off'])
          .default('auto')
          .describe(
            'auto: a real adapter when one is present and usable (BlueZ answers: dbus; else a raw HCI socket opens: hci), the virtual radio otherwise; sim: the virtual radio with simulated devices; hci or dbus: a real adapter; off: no Bluetooth.',
          ),
        maxConnections: z
          .number()
          .int()
          .min(1)
          .max(32)
          .default(3)
          .describe('Simultaneous BLE connections; more devices wait in a queue.'),
      })
      .prefault({})
      .describe('Bluetooth LE central.'),
    http: z
      .strictObject({
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe('Address of the local HTTP server (admin API, pages, metrics).'),
        port: port('Port of the local HTTP server', 8080),
        trustedProxy: z
          .ipv4()
          .or(z.ipv6())
          .optional()
          .describe(
            'Address of the reverse proxy in front of the pages; only its X-Forwarded-For is believed (sign-in throttle). Unset: the socket address.',
          ),
      })
      .prefault({})
      .describe('Local HTTP server.'),
    cgm: z
      .strictObject({
        summaryDays: z
          .union([z.literal(7), z.literal(14), z.literal(30), z.literal(90)])
          .default(14)
          .describe(
            'Days each continuous glucose summary covers (MED-969 mean glucose, MED-972 GMI): 14 as the Time in Range consensus asks, or 7, 30, 90 (the periods Mon espace santé names). Periods are consecutive civil days in `timezone`.',
          ),
        intervalMinutes: z
          .number()
          .int()
          .min(1)
          .max(60)
          .default(5)
          .describe(
            'Minutes between two sensor readings of the CGMs (5 for most): how many readings a period should hold; a period with fewer than 70 % of them is not summarized.',
          ),
        closeAfterHours: z
          .number()
          .min(0)
          .max(24 * 30)
          .default(24)
          .describe(
            'Hours after its end a period is summarized even when the sensor has not been read past it (earlier when it has).',
          ),
        checkEveryMs: z
          .number()
          .int()
          .min(1000)
          .default(3_600_000)
          .describe(
            'How often the gateway looks for closed continuous glucose periods to summarize and for sensor values that have served (deleted).',
          ),
        keepDays: z
          .number()
          .int()
          .min(1)
          .max(400)
          .optional()
          .describe(
            'Days a CGM sensor value is kept on the gateway at most (default: `summaryDays` + 2). It is deleted earlier once both summaries of its period are acknowledged by Mon espace santé, and never before its period is closed.',
          ),
      })
      .prefault({})
      .describe('Continuous glucose: the summaries Mon espace santé receives instead of the sensor stream.'),
    storage: z
      .strictObject({
        kind: z
          .enum(['sqlite', 'postgres'])
          .default('sqlite')
          .describe(
            'Where the journal, the registry and the pairing tokens live: `sqlite` (the embedded default for one box: SQLite journal, lowdb registry, encrypted token file in the data directory) or `postgres` (shared by several gateway instances).',
          ),
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// connection URL')
          .optional()
          .describe(
            'PostgreSQL connection URL (`postgres://user:password@host:5432/medgw`), required with kind `postgres`. The password may come from MEDGW_STORAGE_URL instead of the file.',
          ),
      })
      .prefault({})
      .refine((s) => s.kind !== 'postgres' || s.url !== undefined, {
        message: 'storage.kind postgres needs storage.url (or MEDGW_STORAGE_URL)',
        path: ['url'],
      })
      .describe(
        'Storage of the journal, registry and tokens: one box (sqlite) or several instances (postgres).',
      ),
    journal: z
      .strictObject({
        maxReadings: z
          .number()
          .int()
          .min(1)
          .default(1_000_000)
          .describe(
            'Readings that may wait unsent; beyond it new readings are refused (MEDGW_ERR_JOURNAL_FULL).',
          ),
        maxBytes: z
          .number()
          .int()
          .min(1024)
          .default(512 * 1024 * 1024)
          .describe('Bytes of unsent reading data the journal may hold; beyond it new readings are refused.'),
        maxAuditEntries: z
          .number()
          .int()
          .min(1000)
          .default(2_000_000)
          .describe(
            'Audit log rows beyond which the summaries of refused inputs (one per device per 10 s) are no longer written (MEDGW_ERR_JOURNAL_FULL, the counters keep them).',
          ),
        thread: z
          .boolean()
          .default(true)
          .describe(
            'Run the journal (its SQLite connection, inserts and fsyncs) on its own thread, so commits never hold up network I/O (about 30 MiB more resident memory). false keeps it on the main thread, for the smallest boxes.',
          ),
      })
      .prefault({})
      .describe('Durable journal (outbox, cursors, audit). Nothing is ever evicted to make room.'),
    national: z
      .strictObject({
        baseUrl: z
          .url()
          .optional()
          .describe(
            'Base URL of the Mon espace santé measurements API; absent: the embedded sandbox is used.',
          ),
        sandboxPort: port('Port of the embedded sandbox when no baseUrl is set', 8090),
        idTokenHeader: z
          .string()
          .regex(/^[A-Za-z0-9-]+$/)
          .default('X-Id-Token')
          .describe('HTTP header that carries the ID token beside the bearer access token.'),
        profileGeneration: z
          .enum(PROFILE_GENERATIONS)
          .default(DEFAULT_PROFILE_GENERATION)
          .describe(
            'Which published contract shapes a glucose Bundle: mes-1.5.2 (Mon espace santé API Mesures 1.5.2, the production contract: glucose in the feeding Bundle) or ans-3.2.0 (ans.fhir.fr.mesures 3.2.0: glucose in the biology Bundle with a DiagnosticReport). Other readings always go in the feeding Bundle. The embedded sandbox follows it. See docs/clinical-mapping.md, Glucose Bundle generations.',
          ),
        pairing: z
          .strictObject({
            issuer: z
              .url()
              .optional()
              .describe('OpenID issuer of the pairing ("appariement"); absent: <baseUrl or sandbox>/oidc.'),
            clientId: z
              .string()
              .min(1)
              .default('medgw-gateway')
              .describe('OAuth client id of this solution.'),
            clientSecret: z
              .string()
              .min(1)
              .optional()
              .describe(
                'OAuth client secret (prefer MEDGW_NATIONAL_PAIRING_CLIENT_SECRET); absent with the sandbox: its test secret.',
              ),
            redirectUri: z
              .url()
              .optional()
              .describe('Redirect URI of the authorization code flow (the local patient page callback).'),
            kindScopePrefix: z
              .string()
              .default('mesures.')
              .describe('Prefix of the per-kind consent scopes (mesures.glucose, mesures.weight…).'),
            claimIdPe: z.string().min(1).default('idpe').describe('ID token claim that carries the idPe.'),
            claimPairingOid: z
              .string()
              .min(1)
              .default('pairing_oid')
              .describe('ID token claim that carries the OID of the idPe (assigning authority).'),
            claimSolutionOid: z
              .string()
              .min(1)
              .default('solution_oid')
              .describe('ID token claim that carries the solution OID.'),
          })
          .prefault({})
          .describe(
            'Pairing with Mon espace santé (OAuth 2.0 / OpenID Connect); the defaults match the sandbox.',
          ),
      })
      .prefault({})
      .describe('The national side.'),
    forwarder: z
      .strictObject({
        concurrency: z.number().int().min(1).max(64).default(4).describe('Readings sent at the same time.'),
        retry: z
          .strictObject({
            initialDelayMs: z
              .number()
              .int()
              .min(1)
              .default(1000)
              .describe('First retry delay; doubles each attempt.'),
            maxDelayMs: z.number().int().min(1).default(300_000).describe('Upper bound of the retry delay.'),
            jitter: z
              .number()
              .min(0)
              .max(1)
              .default(0.2)
              .describe('Random share added to or taken from each delay.'),
          })
          .prefault({})
          .describe('Retries after a network error, 5xx or 429.'),
        consentGraceMs: z
          .number()
          .int()
          .min(0)
          .default(7 * 24 * 3600 * 1000)
          .describe(
            'How long readings held for a missing consent are kept before they are purged (audited).',
          ),
        leaseMs: z
          .number()
          .int()
          .min(1000)
          .default(120_000)
          .describe(
            'With storage.kind postgres: how long an instance keeps the readings it claimed for sending. Longer than any send takes: when an instance dies, another one takes its claims over after this, searching the national side before sending them again.',
          ),
      })
      .prefault({})
      .describe('Forwarding to the national side.'),
    demo: z
      .strictObject({
        enabled: z
          .boolean()
          .optional()
          .describe(
            'Provision a demo patient, its simulated devices and a simulated MQTT device; absent: on when the embedded sandbox is used (no national.baseUrl).',
          ),
        patientId: z
          .string()
          .regex(/^[A-Za-z0-9._:-]{1,128}$/)
          .default('demo')
          .describe('Id of the demo patient in the registry.'),
        mqttIntervalSeconds: z
          .number()
          .int()
          .min(1)
          .default(60)
          .describe(
            'Seconds between two readings of the simulated MQTT thermometer (the first is sent at start).',
          ),
        scaleIntervalSeconds: z
          .number()
          .int()
          .min(1)
          .default(600)
          .describe(
            'Seconds between two weighings of the demo user on the simulated scale (ble.mode sim; the first weight is held from start).',
          ),
      })
      .prefault({})
      .describe(
        'The demo of `npm start`: a patient to pair with the embedded sandbox and its simulated devices.',
      ),
  })
  .describe('medgw configuration');

/** The configuration after defaults are applied. */
export type Config = z.output<typeof ConfigSchema>;
/** What a configuration file may contain (every key optional). */
export type ConfigInput = z.input<typeof ConfigSchema>;

/** One leaf of the schema: its key path, environment name and JSON-schema description. */
export interface ConfigKey {
  readonly path: readonly string[];
  readonly env: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean';
  readonly enum?: readonly string[];
  readonly default?: unknown;
  readonly description: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly format?: string;
}

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  enum?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  format?: string;
  pattern?: string;
}

/** MEDGW_ + the key path in upper snake case: mqtt.external.url → MEDGW_MQTT_EXTERNAL_URL. */
export function envName(path: readonly string[]): string {
  return `MEDGW_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

let cached: { keys: ConfigKey[]; sections: { path: string[]; description: string }[] } | undefined;

/** Every leaf key of the schema, in schema order, with the section descriptions. */
export function configKeys(): { keys: ConfigKey[]; sections: { path: string[]; description: string }[] } {
  if (cached) return cached;
  const root = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const keys: ConfigKey[] = [];
  const sections: { path: string[]; description: string }[] = [];
  const walk = (node: JsonSchemaNode, path: string[]) => {
    if (node.type === 'object' && node.properties) {
      if (path.length > 0) sections.push({ path, description: node.description ?? '' });
      for (const [k, child] of Object.entries(node.properties)) walk(child, [...path, k]);
      return;
    }
    const type = (node.type ?? 'string') as ConfigKey['type'];
    keys.push({
      path,
      env: envName(path),
      type,
      ...(node.enum ? { enum: node.enum } : {}),
      ...(node.default !== undefined ? { default: node.default } : {}),
      description: node.description ?? '',
      ...(node.minimum !== undefined ? { minimum: node.minimum } : {}),
      ...(node.maximum !== undefined ? { maximum: node.maximum } : {}),
      ...(node.format !== undefined ? { format: node.format } : {}),
    });
  };
  walk(root, []);
  cached = { keys, sections };
  return cached;
}
