/** In-host side of the harness's browser actions (../uiProtocol.ts): `ui({ action: 'click', frame, selector })`. */
import { UI_ENV, type UiRequest } from '../uiProtocol';

export type UiResult = { text?: string; count?: number };

/** Performs a browser action through the harness; rejects with the harness's reason when it fails. */
export async function ui(request: UiRequest): Promise<UiResult> {
  const address = process.env[UI_ENV];
  if (!address) throw new Error(`${UI_ENV} is not set: these tests need test/host/harness.ts to drive the browser`);
  const response = await fetch(address, { method: 'POST', body: JSON.stringify(request) });
  const result = await response.json() as { ok: true; text?: string; count?: number } | { ok: false; error: string };
  if (!result.ok) throw new Error(`browser ${request.action} ${request.selector}: ${result.error}`);
  return { text: result.text, count: result.count };
}
