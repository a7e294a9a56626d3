// The one printed table (and the shape of the JSON rows).

export interface BenchRow {
  /** Group in the table: baseline, sqlite, postgres, postgres×2, event loop, scale, extension. */
  section: string;
  scenario: string;
  backend: string;
  requestsPerSecond?: number;
  p50Ms?: number;
  p99Ms?: number;
  /**
   * CPU time the server process(es) spent per request during the row (user + system, hashing threads
   * included): what a request costs the server, which unlike req/s does not depend on how busy the machine is.
   */
  cpuMicrosPerRequest?: number;
  /**
   * Of that, the time inside SQLite statements (timed in the server process; SQLite runs on its thread), µs:
   * the database's share of the request, which no change outside the statements can take away. Not on
   * PostgreSQL, whose statements run in the database's own processes.
   */
  statementMicrosPerRequest?: number;
  /** A measured value that is not a load run (ms, KB, …), printed in the req/s column with its unit. */
  value?: { amount: number; unit: string };
  /** Ratios to this row's baselines, e.g. 0.62 of bare node:http. */
  ratios?: { value: number; to: string }[];
  target?: string;
  met?: boolean;
  notes?: string[];
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function cells(row: BenchRow, footnote: string): string[] {
  const main =
    row.requestsPerSecond !== undefined
      ? fmt(row.requestsPerSecond)
      : row.value
        ? `${fmt(row.value.amount, row.value.amount < 10 ? 2 : 1)} ${row.value.unit}`
        : '';
  return [
    row.section,
    row.scenario + footnote,
    row.backend,
    main,
    fmt(row.p50Ms, 1),
    fmt(row.p99Ms, 1),
    fmt(row.cpuMicrosPerRequest),
    fmt(row.statementMicrosPerRequest),
    (row.ratios ?? []).map((ratio) => `${fmt(ratio.value, ratio.value < 0.1 ? 3 : 2)}× ${ratio.to}`).join(', '),
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
  ];
}

const HEADER = ['', 'scenario', 'backend', 'req/s | value', 'p50 ms', 'p99 ms', 'CPU µs/req', 'of it SQLite µs', 'ratio', 'target', 'met?'];
/** The numeric columns (right-aligned). */
const isNumeric = (column: number) => column >= 3 && column <= 7;

/** Plain-text table for the terminal, footnotes numbered below it. */
export function formatTable(rows: BenchRow[]): string {
  return render(rows, (widths, line) => line.map((cell, i) => (isNumeric(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  '));
}

/** The same table as GitHub Markdown (for the README's Performance section). */
export function formatMarkdownTable(rows: BenchRow[]): string {
  return render(rows, (_widths, line) => `| ${line.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`, true);
}

function render(rows: BenchRow[], joinLine: (widths: number[], line: string[]) => string, markdown = false): string {
  const notes: string[] = [];
  const lines = rows.map((row) => {
    const marks = (row.notes ?? []).map((note) => {
      let index = notes.indexOf(note);
      if (index < 0) index = notes.push(note) - 1;
      return `[${index + 1}]`;
    });
    return cells(row, marks.length ? ` ${marks.join('')}` : '');
  });
  const all = [HEADER, ...lines];
  const widths = HEADER.map((_, i) => Math.max(...all.map((line) => line[i]!.length)));
  const out = [joinLine(widths, HEADER)];
  out.push(markdown ? `|${HEADER.map((_, i) => (isNumeric(i) ? '---:' : '---')).join('|')}|` : widths.map((w) => '-'.repeat(w)).join('  '));
  let previousSection = '';
  for (const line of lines) {
    const section = line[0]!;
    out.push(joinLine(widths, [section === previousSection ? '' : section, ...line.slice(1)]));
    previousSection = section;
  }
  out.push('');
  for (const [i, note] of notes.entries()) out.push(`[${i + 1}] ${note}${markdown ? '  ' : ''}`);
  return out.join('\n');
}
