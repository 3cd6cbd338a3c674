/** Generates docs/errors.md from the error catalogue (kernel/errors.ts). */
import { ERROR_CATALOGUE, type ErrorEntry } from '../../kernel/errors.ts';

const AREA_TITLES: Record<ErrorEntry['area'], string> = {
  input: 'Command line, API and configuration input',
  drivers: 'Device frames, payload values and normalization',
  mqtt: 'MQTT payloads',
  ble: 'Bluetooth LE',
  gateway: 'Gateway runtime',
  journal: 'Journal (outbox, cursors, audit)',
  cloud: 'National side (Mon espace santé) and pairing',
  sandbox: 'National-side sandbox',
  http: 'Local web pages and admin API',
};

const OUTCOME_TEXT: Record<NonNullable<ErrorEntry['outcome']>, string> = {
  retry: 'the reading is sent again later',
  'dead-letter': 'the reading is kept as a dead letter',
  'hold-reading': 'the reading is held',
  'hold-patient': 'every reading of the patient is held until the patient is linked again',
};

/** What the gateway does with a reading answered with this code, and which national answers name it. */
function nationalNote(entry: ErrorEntry): string {
  if (!entry.outcome) return '';
  const answers = entry.answer
    ? ` National answer${entry.answer.status.length > 1 ? 's' : ''} HTTP ${entry.answer.status.join(', ')}${entry.answer.text ? ` whose text matches \`${entry.answer.text.source}\`` : ''}.`
    : '';
  return `<br>Outcome: ${OUTCOME_TEXT[entry.outcome]}.${answers}`;
}

export function errorsDoc(): { path: string; content: string } {
  const byArea = new Map<string, string[]>();
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE) as [string, ErrorEntry][]) {
    const rows = byArea.get(entry.area) ?? [];
    rows.push(
      `| \`${code}\` | ${entry.status} | ${entry.message}${nationalNote(entry)} | ${entry.hint.replaceAll('|', '\\|')} |`,
    );
    byArea.set(entry.area, rows);
  }
  const sections = (Object.keys(AREA_TITLES) as ErrorEntry['area'][])
    .filter((area) => byArea.has(area))
    .map(
      (area) =>
        `## ${AREA_TITLES[area]}\n\n| code | HTTP | meaning | what to do |\n|---|---|---|---|\n${byArea.get(area)!.join('\n')}\n`,
    );
  const content = `# Error codes

<!-- Generated from kernel/errors.ts by \`npm run gen\`; do not edit by hand. -->

Every refusal in medgw carries one of these codes: on the command line (stderr, exit status 2), in
MQTT receipts, in API answers (\`{"error":{"code","message","hint"}}\`, with the HTTP status of the
column HTTP) and in the audit log. Scripts match on the code, never on the message. For the answers of
the national side, the catalogue also says what happens to the reading (its outcome) and which answers
carry the code; the measurements client, the forwarder and /metrics read it there.

${sections.join('\n')}`;
  return { path: 'docs/errors.md', content };
}
