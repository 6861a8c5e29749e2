/**
 * The webview side of a typed message protocol: `post` sends only the panel's ToExtension messages, `onMessage`
 * receives only its ToWebview messages. Each panel defines the two unions in its protocol.ts (imported by both
 * sides, so the extension and the webview cannot drift apart).
 */
interface VsCodeApi<State> {
  postMessage(message: unknown): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare function acquireVsCodeApi<State>(): VsCodeApi<State>;

export interface WebviewChannel<ToExtension, ToWebview, State> {
  post(message: ToExtension): void;
  onMessage(handler: (message: ToWebview) => void): void;
  /** State VS Code keeps while the webview is hidden (getState/setState). */
  state(): State | undefined;
  saveState(state: State): void;
}

export function webviewChannel<ToExtension, ToWebview, State = unknown>(): WebviewChannel<ToExtension, ToWebview, State> {
  const api = acquireVsCodeApi<State>();
  return {
    post: (message) => api.postMessage(message),
    onMessage: (handler) => window.addEventListener('message', (event: MessageEvent<ToWebview>) => handler(event.data)),
    state: () => api.getState(),
    saveState: (state) => api.setState(state),
  };
}
