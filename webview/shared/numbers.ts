/** A count with thousands separators (12,345): every panel writes token counts this way. */
export function groupDigits(value: number): string {
  return value.toLocaleString('en-US');
}
