import type { Application } from '../application';
import { CommandScheduler } from './command-scheduler';
import { checkCommand, declaredCommands } from './commands';
import type { ApplicationMessage } from './protocols';
import { answer, failure, ok, reply, spawnActor, type ActorRef, type ParentRef } from './refs';

/**
 * ApplicationActor: commands sent to one application (in one pipeline) as messages. Each starts
 * as it arrives and is answered when it completes, up to `commandConcurrency` at once (then they
 * wait in order); commands that declare the same key run one at a time, in arrival order; queries
 * never wait behind writes (see CommandScheduler). A command that throws, an unknown command or bad
 * arguments is an error answer; the actor keeps serving. A stop request is answered once every
 * command received before it has completed.
 */
export function spawnApplicationActor(
  parent: ParentRef,
  name: string,
  app: Application,
  options: { readonly commandConcurrency: number; readonly onFault: (error: Error) => void },
): ActorRef<ApplicationMessage> {
  const commands = declaredCommands(app);
  const scheduler = new CommandScheduler(options.commandConcurrency);
  return spawnActor<null, ApplicationMessage>(
    parent,
    name,
    async (state, message) => {
      switch (message.type) {
        case 'command': {
          let command;
          try {
            command = checkCommand(app, commands, message.command, message.args);
          } catch (error) {
            reply(message.replyTo, failure(error));
            return state;
          }
          scheduler.submit(command, () => answer(message.replyTo, () => command.run()));
          return state;
        }
        case 'stop':
          await scheduler.drain();
          reply(message.replyTo, ok(undefined));
          return state;
      }
    },
    {
      initialState: null,
      onCrash: (_message, error, ctx) => {
        options.onFault(error);
        return ctx.resume;
      },
    },
  );
}
