/**
 * Generates docs/supported-devices.md from the driver definitions, the device profiles and the clinical
 * vocabulary (drivers/definitions, drivers/profiles, drivers/vocabulary.ts).
 */
import { DEFINITIONS } from '../../drivers/definitions/index.ts';
import { PROFILES } from '../../drivers/profiles/index.ts';
import { VOCABULARY } from '../../drivers/vocabulary.ts';

const cell = (s: string) => s.replaceAll('|', '\\|');
const hexList = (uuids: readonly string[]) => uuids.map((u) => `0x${u}`).join(', ') || '—';

export function supportedDevicesDoc(): { path: string; content: string } {
  const models = DEFINITIONS.filter((d) => !d.generic).map(
    (d) =>
      `| ${cell(d.vendor)} | ${cell(d.model)} | \`${d.id}\` | ${hexList(d.match.ble.services)}${
        d.match.ble.localName ? `, name \`${cell(d.match.ble.localName.source)}\`` : ''
      }${
        d.match.ble.manufacturerId !== undefined
          ? `, manufacturer 0x${d.match.ble.manufacturerId.toString(16).toUpperCase().padStart(4, '0')}`
          : ''
      } | ${d.pairing} | ${d.profiles.map((p) => p.id).join(', ')} | ${d.quirks.map((q) => `\`${q}\``).join(', ') || '—'} |`,
  );
  const generics = DEFINITIONS.filter((d) => d.generic).map(
    (d) =>
      `| \`${d.id}\` | ${hexList(d.match.ble.services)} | ${d.profiles.map((p) => p.id).join(', ')} | ${d.pairing} |`,
  );
  const profiles = PROFILES.map(
    (p) =>
      `| ${p.name} | 0x${p.service} | ${hexList(p.notify.map((c) => c.uuid))} | ${hexList(p.indicate.map((c) => c.uuid))} | ${hexList(
        p.readOnce.map((c) => c.uuid),
      )} | ${p.collect} |`,
  );
  const vocabulary = Object.values(VOCABULARY).map(
    (v) =>
      `| ${v.kind} | ${v.loinc}${v.extraLoinc ? ` (+ ${v.extraLoinc.join(', ')})` : ''} | ${v.mdc} | ${cell(v.unit ?? '—')} | ${
        v.plausible ? `${v.plausible.min}–${v.plausible.max}` : '—'
      } | ${v.display.fr} / ${v.display.en} | ${v.forwarded ? 'yes' : 'no'} |`,
  );
  const sources = DEFINITIONS.filter((d) => !d.generic).map(
    (d) => `- \`${d.id}\`: ${d.description}\n${d.sources.map((s) => `  - ${s}`).join('\n')}`,
  );
  const content = `# Supported devices

<!-- Generated from drivers/definitions, drivers/profiles and drivers/vocabulary.ts by \`npm run gen\`; do not edit by hand. -->

Any Bluetooth LE device that implements one of the standard health services below works through its
**generic profile driver**. Model definitions add what a particular device needs: a name to recognize
it, its pairing method, the companion services it uses, and its quirks (where it departs from the
specification). MQTT devices need no definition: they publish the reading schema of
[mqtt-payloads.md](mqtt-payloads.md). To add a device, see [adding-a-device.md](adding-a-device.md).

## Model definitions

| vendor | model | driver id | advertises | pairing | profiles | quirks |
|---|---|---|---|---|---|---|
${models.join('\n')}

${sources.join('\n')}

## Generic profile drivers

| driver id | service | profiles | pairing |
|---|---|---|---|
${generics.join('\n')}

## Profiles: what the gateway does per service

| profile | service | notifications | indications | read once | stored records |
|---|---|---|---|---|---|
${profiles.join('\n')}

\`racp\`: the gateway pulls stored records through the Record Access Control Point after its cursor;
\`push\`: the device sends queued records as indications after connecting; \`companion\`: used beside a
measurement service (household user consent, clock, identity).

## Clinical vocabulary

Every reading is normalized to these codes and canonical units; outside the plausible range it is
quarantined for a person to confirm.

| kind | LOINC | MDC | unit | plausible | name (fr / en) | sent to Mon espace santé |
|---|---|---|---|---|---|---|
${vocabulary.join('\n')}
`;
  return { path: 'docs/supported-devices.md', content };
}
