// Live updates of the local pages: on each server-sent `change` event, fetch the same page again
// and replace the regions marked data-live, then announce the update to screen readers.
// Without JavaScript the pages work the same, with plain forms and reloads.
const me = document.querySelector('script[data-updated]');
const announce = document.getElementById('medgw-live-announce');
let running = false;
let again = false;

async function refresh() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  try {
    do {
      again = false;
      const res = await fetch(location.pathname + location.search, {
        headers: { Accept: 'text/html', 'X-Medgw-Live': '1' },
        credentials: 'same-origin',
      });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      let changed = false;
      for (const fresh of doc.querySelectorAll('[data-live][id]')) {
        const here = document.getElementById(fresh.id);
        if (!here || here.innerHTML === fresh.innerHTML) continue;
        // keep what the person is typing: skip a region that holds the focused field
        const active = document.activeElement;
        if (active && here.contains(active) && active.matches('input, select, textarea')) continue;
        here.innerHTML = fresh.innerHTML;
        changed = true;
      }
      if (changed && announce && me) announce.textContent = me.dataset.updated || '';
    } while (again);
  } finally {
    running = false;
  }
}

if ('EventSource' in window) {
  const events = new EventSource('/events');
  // what changed between the page load and the stream opening is caught up on open
  events.addEventListener('open', () => {
    refresh();
  });
  events.addEventListener('change', () => {
    refresh();
  });
}
