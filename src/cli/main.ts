import { Command } from 'commander';
import { registerServeCommand } from './serve.command.js';

export function buildProgram(): Command {
  const program = new Command('fleetjobs')
    .description('fleetjobs: AWS IoT Jobs compatible fleet update service')
    .version('0.1.0');
  registerServeCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
