import type { JSX } from 'preact';
import { FSI, PDI } from '../background/isolate.js';

const ISOLATED = new RegExp(`${FSI}([^${FSI}${PDI}]*)${PDI}`, 'g');

/**
 * A message as markup: each name that `isolate` put between FSI and PDI becomes a `<bdi dir="auto">` (the HTML
 * form of the same isolate), the rest stays text. The page's text is the message without the control
 * characters, so what is read, searched and matched is the plain sentence.
 */
export function BidiText(props: { text: string }) {
  const parts: Array<string | JSX.Element> = [];
  let last = 0;
  for (const match of props.text.matchAll(ISOLATED)) {
    if (match.index > last) parts.push(props.text.slice(last, match.index));
    parts.push(<bdi dir="auto">{match[1]}</bdi>);
    last = match.index + match[0].length;
  }
  if (last < props.text.length) parts.push(props.text.slice(last));
  return <>{parts}</>;
}
