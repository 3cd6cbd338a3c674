/** Generates docs/configuration.md from the configuration schema (gateway/config/schema.ts). */
import { CONFIG_FLAGS } from '../../gateway/config/load.ts';
import { configKeys } from '../../gateway/config/schema.ts';

function cell(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function configDoc(): { path: string; content: string } {
  const { keys, sections } = configKeys();
  const flagOf = new Map(Object.entries(CONFIG_FLAGS).map(([flag, key]) => [key, `--${flag}`]));
  const topLevel = keys.filter((k) => k.path.length === 1);
  const groups: { title: string; description: string; rows: typeof keys }[] = [
    { title: 'General', description: '', rows: topLevel },
    ...sections
      .filter((s) => s.path.length === 1)
      .map((s) => ({
        title: `\`${s.path[0]}\``,
        description: s.description,
        rows: keys.filter((k) => k.path[0] === s.path[0]),
      })),
  ];
  const body = groups
    .map((g) => {
      const rows = g.rows.map((k) => {
        const dotted = k.path.join('.');
        const type = k.enum ? k.enum.map((e) => `\`${e}\``).join(' \\| ') : k.type;
        const dflt = k.default === undefined ? '—' : `\`${JSON.stringify(k.default)}\``;
        const flag = flagOf.get(dotted);
        return `| \`${dotted}\` | ${type} | ${dflt} | \`${k.env}\`${flag ? `<br>\`${flag}\`` : ''} | ${cell(k.description)} |`;
      });
      return `## ${g.title}\n\n${g.description ? `${g.description}\n\n` : ''}| key | type | default | environment / flag | meaning |\n|---|---|---|---|---|\n${rows.join('\n')}\n`;
    })
    .join('\n');
  const content = `# Configuration reference

<!-- Generated from gateway/config/schema.ts by \`npm run gen\`; do not edit by hand. -->

medgw runs with no configuration at all (embedded broker, virtual radio, embedded sandbox, data in
\`./.medgw\`). Each key below can be set, from lowest to highest precedence:

1. in a YAML or JSON file given with \`--config <file>\` (or \`MEDGW_CONFIG\`), nested as the dotted key says;
2. in the environment, as \`MEDGW_\` followed by the key path in upper snake case;
3. on the command line, for the keys that have a flag.

An invalid value stops start-up with \`MEDGW_ERR_CONFIG\` naming the key, what is expected and where
the value came from. Unknown keys are refused too, so a typo never goes unnoticed. Relative paths are
resolved against the working directory.

\`\`\`yaml
# example: an external broker shared by several gateways, a real adapter, the real national side
dataDir: /var/lib/medgw
mqtt:
  mode: external
  external:
    url: mqtts://broker.example.org:8883
    group: medgw-site-1
ble:
  mode: hci
national:
  baseUrl: https://national.example.org/api
\`\`\`

${body}`;
  return { path: 'docs/configuration.md', content };
}
