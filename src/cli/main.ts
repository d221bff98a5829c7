// Placeholder until the CLI lands.
export async function main(_argv: string[]): Promise<number> {
  process.stdout.write('resonate: not yet\n');
  return 0;
}
