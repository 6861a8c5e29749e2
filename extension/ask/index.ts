/**
 * The Ask panel: the "Ask" view in the ProLong side bar, "ProLong: Ask About Workspace" (shows it) and
 * "ProLong: New Conversation".
 */
import * as vscode from 'vscode';
import type { WorkspacePacking } from '../pack';
import { AskSession } from './askSession';
import { ASK_VIEW_ID, AskViewProvider } from './askView';

/** Returns the panel's session, which the chat participant asks through too. */
export function registerAsk(context: vscode.ExtensionContext, packing: WorkspacePacking): AskSession {
  let session: AskSession | undefined;
  const provider = new AskViewProvider(context.extensionUri, () => session!);
  session = new AskSession(context, packing, {
    changed: () => provider.postState(),
    delta: (turnId, text) => provider.post({ type: 'delta', turnId, text }),
    packed: (paths) => provider.post({ type: 'paths', paths }),
  });
  context.subscriptions.push(
    session,
    provider,
    vscode.window.registerWebviewViewProvider(ASK_VIEW_ID, provider),
    vscode.commands.registerCommand('prolong.askAboutWorkspace', () => provider.reveal()),
    vscode.commands.registerCommand('prolong.askAboutSelection', () => provider.reveal()),
    vscode.commands.registerCommand('prolong.newConversation', () => session!.newConversation()),
    vscode.commands.registerCommand('prolong.openPastConversation', () => session!.openPastConversation()),
  );
  return session;
}
