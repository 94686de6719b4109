/** Parses `--name value` / `--flag` arguments into a map (kebab-case names as given). */
export function parseArgs(argv: string[]): { positional: string[]; options: Record<string, string | true> } {
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2);
    if (inline !== undefined) options[name] = inline;
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) options[name] = argv[++i];
    else options[name] = true;
  }
  return { positional, options };
}

/** A one-line progress bar: `[#####.....] 5/10 loss 1.23 val 1.30 nfe 120/240 eta 12 s`. */
export function progressBar(done: number, total: number, width = 24): string {
  const f = total > 0 ? Math.min(done / total, 1) : 0;
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${done}/${total}`;
}
