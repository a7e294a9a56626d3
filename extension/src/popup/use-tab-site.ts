import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A site field that defaults to the tab's origin. The popup asks for the tab's context after its first
 * screen, so a form opened quickly mounts before the origin is known (and shows `fallback`): the origin
 * is taken when it comes, unless the person has typed in the field meanwhile — their text is never
 * replaced. Returns the value and the setter for the person's edits.
 */
export function useTabSite(tabOrigin: string | null, fallback: string): [string, (value: string) => void] {
  const [value, setValue] = useState(tabOrigin ?? fallback);
  const edited = useRef(false);
  useEffect(() => {
    if (tabOrigin !== null && !edited.current) setValue(tabOrigin);
  }, [tabOrigin]);
  return [
    value,
    (next) => {
      edited.current = true;
      setValue(next);
    },
  ];
}
