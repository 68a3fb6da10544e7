import type { Command } from 'commander';
import { DELIVERY_MODES, type NotifySubscription } from '../core/schema';
import { CHAT_TYPES } from '../core/input';
import { oneOf, print, withBoard } from './shared';

interface SubscriberFlags {
  platform: string;
  chat: string;
  thread?: string;
  user?: string;
}

interface SubscribeFlags extends SubscriberFlags {
  userIdAlt?: string;
  chatType?: (typeof CHAT_TYPES)[number];
  notifierProfile?: string;
  deliveryMode?: (typeof DELIVERY_MODES)[number];
}

const subscriberLine = (s: NotifySubscription) =>
  `${s.taskId} → ${s.platform}/${s.chatId}${s.threadId ? `/${s.threadId}` : ''}${s.userId ? ` (user ${s.userId})` : ''}, events after #${s.lastEventId}`;

const subscriberOptions = (command: Command) =>
  command
    .requiredOption('--platform <name>', 'where the notifier sends (as the gateway names it, e.g. telegram)')
    .requiredOption('--chat <id>', 'the chat on that platform')
    .option('--thread <id>', 'a thread inside the chat');

/** `subscribe`, `unsubscribe` and `subscriptions`: what the gateway's notifier tells whom. */
export function registerNotifyCommands(program: Command): void {
  subscriberOptions(
    program
      .command('subscribe <task>')
      .description('tell a chat when the task completes, blocks, gives up, crashes or times out'),
  )
    .option('--user <id>', 'the person who asked')
    .option('--user-id-alt <id>', 'a stable alternate id of that person on the platform')
    .option('--chat-type <type>', CHAT_TYPES.join(', '), oneOf(CHAT_TYPES))
    .option('--notifier-profile <name>', 'the notifier profile that delivers it')
    .option('--delivery-mode <mode>', DELIVERY_MODES.join(', '), oneOf(DELIVERY_MODES))
    .action((taskId: string, f: SubscribeFlags, command: Command) =>
      withBoard(command, async (kb) => {
        const sub = await kb.subscribe({
          taskId,
          platform: f.platform,
          chatId: f.chat,
          threadId: f.thread,
          userId: f.user,
          userIdAlt: f.userIdAlt,
          chatType: f.chatType,
          notifierProfile: f.notifierProfile,
          deliveryMode: f.deliveryMode,
        });
        print(command, sub, subscriberLine);
      }),
    );

  subscriberOptions(program.command('unsubscribe <task>').description('stop telling a chat about the task')).action(
    (taskId: string, f: SubscriberFlags, command: Command) =>
      withBoard(command, async (kb) => {
        const removed = await kb.unsubscribe({ taskId, platform: f.platform, chatId: f.chat, threadId: f.thread });
        print(command, { removed }, () =>
          removed
            ? `unsubscribed ${f.platform}/${f.chat} from ${taskId}`
            : `${f.platform}/${f.chat} was not subscribed to ${taskId}`,
        );
      }),
  );

  program
    .command('subscriptions [task]')
    .description("the notifier's subscribers, of one task or of all")
    .action((taskId: string | undefined, _f, command: Command) =>
      withBoard(command, async (kb) =>
        print(command, await kb.listSubscriptions(taskId), (subs) =>
          subs.length ? subs.map(subscriberLine).join('\n') : 'no subscriptions',
        ),
      ),
    );
}
