// Entry: parse the command line and run the command. Usage errors print one line and exit
// 2; start-up problems (folder, port, log) one line and exit 1.
import { parseCli, UsageError } from './args.ts';
import { runDaemon, StartError } from './daemon.ts';
import { helpText, version } from './help.ts';
import { runLog } from './log-cmd.ts';
import { runStatus } from './status-cmd.ts';

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseCli(argv);
    switch (args.command) {
      case 'help':
        process.stdout.write(`${helpText(args.topic)}\n`);
        return 0;
      case 'version':
        process.stdout.write(`resonate ${version()}\n`);
        return 0;
      case 'status':
        return await runStatus(args);
      case 'log':
        return await runLog(args);
      case 'daemon':
        return await runDaemon(args);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`resonate: ${err.message}\n`);
      return 2;
    }
    if (err instanceof StartError) {
      process.stderr.write(`resonate: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
