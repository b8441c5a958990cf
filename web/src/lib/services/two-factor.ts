import { mutate, query } from '../api/client.js';
import { CONFIRM_TOTP, DISABLE_TOTP, ENABLE_TOTP, RESET_USER_TOTP, SERVER_SETTINGS, UPDATE_SERVER_SETTINGS } from '../api/documents.js';
import { session } from '../state/session.svelte.js';

/** A new authenticator secret with its otpauth:// URI and QR code; not active until confirmed. */
export const enableTotp = async () => (await mutate(ENABLE_TOTP)).enableTotp;

/** Turns two-factor sign-in on; returns the recovery codes, which the server shows only this once. */
export async function confirmTotp(code: string): Promise<string[]> {
  const { confirmTotp: codes } = await mutate(CONFIRM_TOTP, { code: code.trim() });
  await session.load();
  return codes;
}

/** Proven by a code from the app, a recovery code, or the password. */
export async function disableTotp(proof: { code?: string; password?: string }): Promise<void> {
  await mutate(DISABLE_TOTP, proof);
  await session.load();
}

export const resetUserTotp = (userId: string) => mutate(RESET_USER_TOTP, { userId });
export const loadServerSettings = async () => (await query(SERVER_SETTINGS)).serverSettings;
export const updateServerSettings = async (input: { requireTwoFactor: boolean }) => (await mutate(UPDATE_SERVER_SETTINGS, { input })).updateServerSettings;

/** A file of the recovery codes for the browser to save. */
export function recoveryCodesFile(codes: string[], server: string): string {
  return `Knot recovery codes for ${server}\nEach works once, instead of a code from your authenticator app.\n\n${codes.join('\n')}\n`;
}
