import { XMLParser } from 'fast-xml-parser';

/** XML for the restXml (S3) and query (IAM) protocols: a tiny writer and a strict-enough reader. */

/** Control characters are not allowed raw in XML 1.0; they go out as character references. */
export const escapeXml = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/[<>&"'\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, (c) => {
    switch (c) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '&':
        return '&amp;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });

/**
 * Objects become elements in key order, arrays become repeated elements of the same name
 * (S3's flattened lists; IAM wraps them as {member: [...]}), undefined is left out.
 */
export function toXml(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => toXml(name, v)).join('');
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(k, v))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function xmlDocument(root: string, xmlns: string, value: Record<string, unknown>): string {
  const inner = Object.entries(value)
    .map(([k, v]) => toXml(k, v))
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${xmlns}">${inner}</${root}>`;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  ignoreDeclaration: true,
});

/** Parses a request body; undefined when it is not well-formed XML. */
export function parseXml(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = parser.parse(text, true);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A repeated element read back as a list, whether it occurred once or many times. */
export const xmlList = (value: unknown): unknown[] =>
  value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value];
