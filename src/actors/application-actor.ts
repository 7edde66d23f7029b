import type { Application } from '../application';
import { runCommand } from './commands';
import type { ApplicationMessage } from './protocols';
import { answer, ok, reply, spawnActor, type ActorRef, type ParentRef } from './refs';

/**
 * ApplicationActor: commands sent to one application (in one pipeline) as messages, run one at a
 * time in the order received. A command that throws, an unknown command or bad arguments is an
 * error answer; the actor keeps serving.
 */
export function spawnApplicationActor(
  parent: ParentRef,
  name: string,
  app: Application,
  onFault: (error: Error) => void,
): ActorRef<ApplicationMessage> {
  return spawnActor<null, ApplicationMessage>(
    parent,
    name,
    async (state, message) => {
      switch (message.type) {
        case 'command':
          await answer(message.replyTo, () => runCommand(app, message.command, message.args));
          return state;
        case 'stop':
          reply(message.replyTo, ok(undefined));
          return state;
      }
    },
    {
      initialState: null,
      onCrash: (_message, error, ctx) => {
        onFault(error);
        return ctx.resume;
      },
    },
  );
}
