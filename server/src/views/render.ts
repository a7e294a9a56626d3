import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';

/** Render a page component to a full HTML document. Preact escapes every text and attribute value. */
export function renderDocument(page: VNode): string {
  return `<!doctype html>${render(page)}`;
}

/** A page component: props in, a document (a `<Layout>`) out. */
export type PageComponent<P> = (props: P) => VNode;

/**
 * Prop paths (dot-separated) whose strings decide the page's structure — the view compares their content,
 * as the layout does with `flash.kind` — so they are part of the shape rather than spliced in.
 */
const STRUCTURAL_PATHS = new Set(['page.flash.kind']);

/** Distinct page shapes kept; a shape is a page component plus everything but its strings. */
const MAX_SHAPES = 256;

/** A slot marker cannot be typed by a visitor into a spliced value: private-use code points, and values are escaped. */
const SLOT = (index: number) => `\uE000${index}\uE001`;
const SLOT_PATTERN = /\uE000(\d+)\uE001/g;
const STRAY_MARKER = /[\uE000\uE001]/;

/** A rendered shape: the document cut at its slots; `null` when the page cannot be cached (see renderPage). */
type Template = { parts: string[]; slots: number[] } | null;

const templates = new Map<string, Template>();
const componentIds = new WeakMap<PageComponent<never>, number>();
let nextComponentId = 0;

/**
 * Render `Page(props)` like {@link renderDocument}, but once per *shape*: every string in `props` is a
 * per-request slot (CSRF token, username, messages, query strings, kept form values), everything else —
 * booleans, numbers, null, array lengths, whether a string is empty, and the strings at STRUCTURAL_PATHS —
 * is the shape. The first request of a shape renders the page with markers in the slots and cuts it there;
 * later ones splice their strings in, escaped exactly as Preact escapes text and attributes (`"`, `&`, `<`).
 * Only markup and strings that are not per-request are kept, never a visitor's values or a secret.
 *
 * The contract for a view rendered this way: its document depends on its props alone (the cache is per
 * process, shared by every app in it), and it may test a string for emptiness and put it into text or an
 * attribute (concatenated or not), but not branch on its content or transform it. The first request of each
 * shape also renders the page normally and compares; a page that breaks the contract (its spliced document
 * differs, a marker was cut or encoded) is never cached, and props holding anything but plain data are not.
 */
export function renderPage<P extends object>(Page: PageComponent<P>, props: P): string {
  const values: string[] = [];
  const shape = shapeOf(props, '', values);
  if (shape === UNCACHEABLE) return renderDocument(Page(props));
  let id = componentIds.get(Page as PageComponent<never>);
  if (id === undefined) {
    id = nextComponentId++;
    componentIds.set(Page as PageComponent<never>, id);
  }
  const key = `${id}:${JSON.stringify(shape)}`;

  const cached = templates.get(key);
  if (cached !== undefined) {
    // Most recently used last, so the oldest shape is the first to go.
    templates.delete(key);
    templates.set(key, cached);
    return cached ? splice(cached, values) : renderDocument(Page(props));
  }

  const document = renderDocument(Page(props));
  const template = cut(renderDocument(Page(withSlots(props, '') as P)), values.length);
  const usable = template !== null && splice(template, values) === document ? template : null;
  if (templates.size >= MAX_SHAPES) templates.delete(templates.keys().next().value!);
  templates.set(key, usable);
  return document;
}

const UNCACHEABLE = Symbol('uncacheable');
type Shape = null | boolean | number | string | Shape[] | { [key: string]: Shape };

/** The props with every slot string replaced by a placeholder (empty strings stay empty: views test them). */
function shapeOf(value: unknown, path: string, values: string[]): Shape | typeof UNCACHEABLE {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'number':
      return value;
    case 'string':
      if (value === '' || STRUCTURAL_PATHS.has(path)) return `=${value}`;
      values.push(value);
      return '*';
    case 'object': {
      if (Array.isArray(value)) {
        const items: Shape[] = [];
        for (const item of value) {
          const shape = shapeOf(item, path, values);
          if (shape === UNCACHEABLE) return UNCACHEABLE;
          items.push(shape);
        }
        return items;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return UNCACHEABLE;
      const entries: { [key: string]: Shape } = {};
      for (const key of Object.keys(value)) {
        const shape = shapeOf((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, values);
        if (shape === UNCACHEABLE) return UNCACHEABLE;
        entries[key] = shape;
      }
      return entries;
    }
    default:
      return UNCACHEABLE;
  }
}

/** The props with each slot string replaced by its marker, in the order shapeOf collected them. */
function withSlots(value: unknown, path: string, counter = { next: 0 }): unknown {
  if (typeof value === 'string') return value === '' || STRUCTURAL_PATHS.has(path) ? value : SLOT(counter.next++);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withSlots(item, path, counter));
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = withSlots((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, counter);
  return copy;
}

/** Cut a document rendered with markers at its slots; null if a marker was altered (the view transformed a slot). */
function cut(document: string, slotCount: number): Template {
  const parts: string[] = [];
  const slots: number[] = [];
  let last = 0;
  for (const match of document.matchAll(SLOT_PATTERN)) {
    const slot = Number(match[1]);
    if (slot >= slotCount) return null;
    parts.push(document.slice(last, match.index));
    slots.push(slot);
    last = match.index + match[0].length;
  }
  parts.push(document.slice(last));
  return parts.some((part) => STRAY_MARKER.test(part)) ? null : { parts, slots };
}

function splice(template: NonNullable<Template>, values: string[]): string {
  let out = template.parts[0]!;
  for (let i = 0; i < template.slots.length; i++) out += escapeLikePreact(values[template.slots[i]!]!) + template.parts[i + 1]!;
  return out;
}

/** preact-render-to-string's escaping, for text and attribute values alike. */
function escapeLikePreact(text: string): string {
  return /["&<]/.test(text) ? text.replace(/["&<]/g, (char) => (char === '"' ? '&quot;' : char === '&' ? '&amp;' : '&lt;')) : text;
}

/** The cached shapes' keys (for tests: they must never hold a request's strings). */
export function cachedShapeKeys(): string[] {
  return [...templates.keys()];
}
