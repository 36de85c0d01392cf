/**
 * Reads a QR code from a video frame: with the browser's BarcodeDetector where it exists and
 * knows QR codes (phones: Android Chrome, Safari), else with jsQR, a small pure-JS decoder that
 * is loaded only when a camera is started (its own chunk, not in the app's first download).
 */
export interface QrReader {
  readonly engine: 'barcode-detector' | 'jsqr';
  read(video: HTMLVideoElement): Promise<string | null>;
}

interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<DetectedBarcode[]>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats?(): Promise<string[]>;
}

/** Frames are scaled down to this width at most: enough for a ticket held up to a phone. */
const MAX_WIDTH = 640;

export async function createQrReader(): Promise<QrReader> {
  const native = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (native) {
    try {
      const formats = (await native.getSupportedFormats?.()) ?? ['qr_code'];
      if (formats.includes('qr_code')) return barcodeDetectorReader(native);
    } catch {
      // fall back to jsQR
    }
  }
  return jsQrReader();
}

function barcodeDetectorReader(native: BarcodeDetectorClass): QrReader {
  const detector = new native({ formats: ['qr_code'] });
  return {
    engine: 'barcode-detector',
    async read(video) {
      const found = await detector.detect(video);
      return found.find((code) => code.rawValue)?.rawValue ?? null;
    },
  };
}

async function jsQrReader(): Promise<QrReader> {
  const { default: jsQR } = await import('jsqr');
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('no 2D canvas');
  return {
    engine: 'jsqr',
    async read(video) {
      if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || !video.videoWidth) return null;
      const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
      const width = Math.round(video.videoWidth * scale);
      const height = Math.round(video.videoHeight * scale);
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      context.drawImage(video, 0, 0, width, height);
      const image = context.getImageData(0, 0, width, height);
      return jsQR(image.data, width, height, { inversionAttempts: 'attemptBoth' })?.data || null;
    },
  };
}
