import browser from 'webextension-polyfill';
import jsQR from 'jsqr';

/**
 * Find an otpauth QR code on the visible part of the current tab. Loaded with a dynamic import only
 * when the person presses "Scan QR", so the decoder is not part of the popup's start-up cost.
 * Returns null when no QR code is visible; throws when the tab cannot be captured.
 */
export async function scanVisibleTab(): Promise<string | null> {
  const dataUrl = await browser.tabs.captureVisibleTab(undefined, { format: 'png' });
  const bitmap = await createImageBitmap(await (await fetch(dataUrl)).blob());
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('Cannot read the captured image.');
  context.drawImage(bitmap, 0, 0);
  const image = context.getImageData(0, 0, bitmap.width, bitmap.height);
  const found = jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' });
  return found?.data ?? null;
}
