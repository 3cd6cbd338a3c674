/** Plain server-rendered HTML for the sandbox pages: forms that work without JavaScript. */

export function esc(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * One table row whose cells carry their column name (`data-label`): on a phone the table reflows to one
 * block per row and each value says what it is. Cells are HTML already escaped by the caller.
 */
export function row(labels: readonly string[], cells: readonly string[]): string {
  return `<tr>${cells.map((c, i) => `<td data-label="${esc(labels[i] ?? '')}">${c}</td>`).join('')}</tr>`;
}

/** A table head from its column names. */
export function head(labels: readonly string[]): string {
  return `<thead><tr>${labels.map((l) => `<th scope="col">${esc(l)}</th>`).join('')}</tr></thead>`;
}

export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)} — bac à sable Mon espace santé</title>
<style>
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#161616;overflow-wrap:anywhere}
h1{font-size:1.5rem}label{display:block;margin:.5rem 0}input[type=text],input[type=password]{font-size:1rem;padding:.4rem;width:100%;max-width:20rem}
button{font-size:1rem;padding:.4rem 1rem;margin:.5rem .5rem .5rem 0}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;text-align:left;font-size:.9rem;vertical-align:top}
td{overflow-wrap:anywhere}
@media (max-width:40rem){table,tbody,tr,td{display:block}thead{display:none}tr{border:1px solid #ccc;margin:0 0 .75rem}td{border:0;border-bottom:1px solid #eee}td[data-label]::before{content:attr(data-label) " : ";font-weight:bold}}
.error{color:#b00020;font-weight:bold}.note{color:#555;font-size:.9rem}:focus{outline:3px solid #0a76f6}
</style>
</head>
<body>
<p class="note">Bac à sable medgw — service de test, aucune donnée réelle (sandbox: test data only).</p>
<main>
<h1>${esc(title)}</h1>
${body}
</main>
</body>
</html>`;
}
