/** Generates docs/errors.md from the error catalogue (drivers/errors.ts). */
import { ERROR_CATALOGUE, type ErrorEntry } from '../../drivers/errors.ts';

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

export function errorsDoc(): { path: string; content: string } {
  const byArea = new Map<string, string[]>();
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE) as [string, ErrorEntry][]) {
    const rows = byArea.get(entry.area) ?? [];
    rows.push(`| \`${code}\` | ${entry.message} | ${entry.hint.replaceAll('|', '\\|')} |`);
    byArea.set(entry.area, rows);
  }
  const sections = (Object.keys(AREA_TITLES) as ErrorEntry['area'][])
    .filter((area) => byArea.has(area))
    .map(
      (area) =>
        `## ${AREA_TITLES[area]}\n\n| code | meaning | what to do |\n|---|---|---|\n${byArea.get(area)!.join('\n')}\n`,
    );
  const content = `# Error codes

<!-- Generated from drivers/errors.ts by \`npm run gen\`; do not edit by hand. -->

Every refusal in medgw carries one of these codes: on the command line (stderr, exit status 2), in
MQTT receipts, in API answers (\`{"error":{"code","message","hint"}}\`) and in the audit log. Scripts
match on the code, never on the message.

${sections.join('\n')}`;
  return { path: 'docs/errors.md', content };
}
