import type { CommandInbox } from './command-inbox';
import type { ApplicationMessage } from './protocols';
import { failure, ok, reply, spawnActor, type ActorRef, type ParentRef } from './refs';

/**
 * ApplicationActor: commands sent to one application (in one pipeline) as messages. Each starts
 * as it arrives and is answered when it completes, up to `commandConcurrency` at once (then they
 * wait in order); commands that declare the same key run one at a time, in arrival order; queries
 * never wait behind writes (see CommandInbox and CommandScheduler). A command that throws, an
 * unknown command or bad arguments is an error answer; the actor keeps serving. A stop request is
 * answered once every command received before it has completed.
 */
export function spawnApplicationActor(
  parent: ParentRef,
  name: string,
  inbox: CommandInbox,
  options: { readonly onFault: (error: Error) => void },
): ActorRef<ApplicationMessage> {
  return spawnActor<null, ApplicationMessage>(
    parent,
    name,
    async (state, message) => {
      switch (message.type) {
        case 'command': {
          const { replyTo } = message;
          inbox.take(message.command, message.args).then(
            (value) => reply(replyTo, ok(value)),
            (error: unknown) => reply(replyTo, failure(error)),
          );
          return state;
        }
        case 'stop':
          await inbox.close();
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
