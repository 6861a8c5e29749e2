import type * as vscode from 'vscode';

/** Runs `work` with an AbortSignal that fires when VS Code's cancellation token does (never, without a token). */
export async function withCancellation<T>(token: vscode.CancellationToken | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const subscription = token?.onCancellationRequested(() => controller.abort());
  try {
    return await work(controller.signal);
  } finally {
    subscription?.dispose();
  }
}
