/** Plain server-rendered HTML for the sandbox pages: forms that work without JavaScript. */

export function esc(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — bac à sable Mon espace santé</title>
<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#161616}
h1{font-size:1.5rem}label{display:block;margin:.5rem 0}input[type=text],input[type=password]{font-size:1rem;padding:.4rem;width:100%;max-width:20rem}
button{font-size:1rem;padding:.4rem 1rem;margin:.5rem .5rem .5rem 0}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;text-align:left;font-size:.9rem}
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
