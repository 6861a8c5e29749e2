/**
 * Browser-level actions the in-host tests may ask the harness for (webview DOM is out of the extension host's
 * reach): the harness serves them over HTTP on 127.0.0.1 (address in the PROLONG_HOST_UI environment variable of
 * the VS Code server and so of the extension host) and performs them with playwright on the workbench page.
 *
 * `frame` is a CSS selector naming the frame to act in: the first frame, at any depth, that has a match for it
 * (a webview's content sits two iframes deep). Without it, the workbench page itself. Selectors pierce open
 * shadow roots (playwright's CSS engine), so `vscode-text-area#q textarea` reaches the toolkit's inner textarea.
 */
export type UiRequest = { frame?: string; selector: string; timeoutMs?: number } & (
  | { action: 'click' }
  | { action: 'fill'; value: string }
  | { action: 'press'; key: string }
  /** Waits for a match, returns its textContent. */
  | { action: 'text' }
  /** Waits for an input or textarea match, returns its value (in `text`). */
  | { action: 'value' }
  /** Waits until the first match's textContent includes `text`. */
  | { action: 'waitForText'; text: string }
  /** How many elements match now (0 when the frame is not there). */
  | { action: 'count' }
  /**
   * A PNG written to `path`: of the whole workbench page, or with `element`, of the first match of `selector`
   * in the page (e.g. the side bar). Used to look at panels and for the README's screenshots.
   */
  | { action: 'screenshot'; path: string; element?: boolean }
  /** Waits for a match, returns its computed values of `properties` as a JSON object (in `text`). */
  | { action: 'style'; properties: string[] }
  /**
   * Waits for a match; with `top`, scrolls it there; returns {scrollTop, scrollHeight, clientHeight, clientWidth,
   * scrollWidth, width} as JSON (in `text`).
   */
  | { action: 'scroll'; top?: number }
  /** Waits for a match and gives it keyboard focus. */
  | { action: 'focus' }
);

export type UiResponse = { ok: true; text?: string; count?: number } | { ok: false; error: string };

export const UI_ENV = 'PROLONG_HOST_UI';
