/**
 * Run in a popup (Playwright's or puppeteer's `evaluate`): for each account row, the width of the largest count its
 * countdown shows — its period, given by account id in `periods` — against the inside of its ring. The count is put
 * in the ring for the measurement and the shown one put back, so a period's three digits are measured whatever the
 * count is at the time. A plain function (no imports, no closure): both browsers' drivers send its source.
 */
export function measureCountdowns(periods: Record<string, number>): Array<{ id: string; count: number; width: number; inside: number }> {
  return Array.from(document.querySelectorAll<HTMLElement>('.account[data-account-id]')).map((row) => {
    const id = row.dataset.accountId ?? '';
    const ring = row.querySelector<HTMLElement>('.countdown');
    const circle = ring?.querySelector('circle');
    const svg = ring?.querySelector('svg');
    const digits = ring?.querySelector('.countdown-text')?.firstChild;
    if (!ring || !circle || !svg || !digits) throw new Error(`measureCountdowns: no countdown in the row of ${id}`);
    // The ring's stroke is drawn in the 24-unit viewBox, scaled to the ring's rendered size.
    const scale = svg.getBoundingClientRect().width / 24;
    const inside = 2 * (Number(circle.getAttribute('r')) - Number.parseFloat(getComputedStyle(circle).strokeWidth) / 2) * scale;
    const shown = digits.textContent;
    const count = periods[id] ?? 0;
    digits.textContent = String(count);
    const range = document.createRange();
    range.selectNodeContents(digits);
    const width = range.getBoundingClientRect().width;
    digits.textContent = shown;
    return { id, count, width, inside };
  });
}
