import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';

/** Render a page component to a full HTML document. Preact escapes every text and attribute value. */
export function renderDocument(page: VNode): string {
  return `<!doctype html>${render(page)}`;
}
