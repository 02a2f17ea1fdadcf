// Escaping for XML and HTML text and attributes. Characters XML 1.0 forbids (most C0 controls, lone
// surrogates, U+FFFE/U+FFFF) are replaced, not escaped: no entity can carry them and a strict JUnit parser
// rejects the whole file over one of them, which would hide every verdict behind a parse error.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  // Parsers normalise raw line breaks and tabs in attribute values to spaces; character references survive.
  '\n': '&#10;', '\r': '&#13;', '\t': '&#9;',
};

/** Safe in element text, for both XML and HTML. */
export function escapeXml(text: string): string {
  return text.replace(FORBIDDEN, '\uFFFD').replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Safe in a single- or double-quoted attribute, line breaks kept. */
export function escapeXmlAttribute(text: string): string {
  return text.replace(FORBIDDEN, '\uFFFD').replace(/[&<>"'\n\r\t]/g, (c) => ENTITIES[c] ?? c);
}
