import { splitIsolates } from '@latchkey/shared';

/**
 * A message as markup: each name that `isolate` put between FSI and PDI becomes a `<bdi dir="auto">` (the HTML
 * form of the same isolate), the rest stays text. The page's text is the message without the control
 * characters, so what is read, searched and matched is the plain sentence.
 */
export function BidiText(props: { text: string }) {
  return <>{splitIsolates(props.text).map((piece) => (piece.isolated ? <bdi dir="auto">{piece.text}</bdi> : piece.text))}</>;
}
