/** A full stop in any form a link finder or an IDNA-aware client takes for the dot of a domain name. */
const DOT = '[.\u3002\uFF0E\uFF61]';
/**
 * What makes text a link to a mail client: a scheme or a protocol-relative start (`https://`, `//localhost`),
 * an address or mention (`@`), a host name (`evil.example`, `www.x`: a dot then a letter, as every top-level
 * domain starts) or an IPv4 address. A version number (`5.1`) is none of these.
 */
const LINKABLE = new RegExp(`//|@|[\\p{L}\\p{N}_-]${DOT}\\p{L}|\\d${DOT}\\d+${DOT}\\d+${DOT}\\d`, 'u');
/** Each piece a link finder keys on, replaced in one pass (`://` before its own `//`). */
const LINK_PIECE = new RegExp(`://|//|@|(?<=[\\p{L}\\p{N}_-])${DOT}(?=[\\p{L}\\p{N}])`, 'gu');
const DEFANGED: Record<string, string> = { '://': '[://]', '//': '/[/]', '@': '[@]' };

/**
 * Text someone chose (a security key's label) as a security notice quotes it: shown whole, but so that no mail
 * client turns it into a link. Clients link anything that looks like a URL, a host name or an address in the
 * text and HTML parts alike, and a label is set by whoever holds a session: renamed `https://evil.example/x`,
 * it would put the attacker's link into the owner's later notices, in a message that really comes from the
 * index (ASVS 4.0.3 V5.3.1: output encoded for the context it is shown in, here a mail client that links text).
 *
 * Text with nothing linkable (`blue USB key`, `YubiKey 5.1`) is left as it is. Otherwise it is "defanged" as
 * security reports quote addresses: each dot of a name becomes `[.]`, `://` becomes `[://]`, any other `//`
 * `/[/]` and `@` `[@]` (`https[://]evil[.]example/x`), which people still read and no link finder matches
 * (checked with mailparser's, which links as eagerly as mail clients do: bare host names, IPv4, `//host`). The labels
 * themselves are unchanged (stored ones display and work as before); only mail quotes them this way.
 */
export function unlinkable(text: string): string {
  if (!LINKABLE.test(text)) return text;
  return text.replace(LINK_PIECE, (piece) => DEFANGED[piece] ?? '[.]');
}
