// Text cleaning before CLIP's BPE: a port of Python's html.unescape, the cheap part of ftfy, whitespace and case rules.
//
// OpenAI's tokenizer runs `ftfy.fix_text`, then `html.unescape` twice, strips, collapses whitespace (the `regex`
// module's `\s`, i.e. Unicode White_Space) and lower-cases. Of ftfy's default fixes this file applies the ones that
// are plain character mappings: C1 controls read as Windows-1252 (`fix_c1_controls`), Latin ligatures
// (`fix_latin_ligatures`), fullwidth/halfwidth forms (`fix_character_width`), curly quotes → straight
// (`uncurl_quotes`), removal of control and format characters (`remove_control_chars`, the ranges this file names)
// and NFC. It does NOT repair mojibake (`fix_encoding` and friends) or run ftfy's own HTML pass (which only
// differs from the reference on text that is HTML-escaped three times over).
import { HTML5_ENTITIES } from './html-entities.ts';

/**
 * Unicode White_Space as a regex class body: the `regex` module's `\s`. (JS's `\s` adds U+FEFF; Python's
 * `str.strip()` adds U+001C–U+001F, which the control-character pass has removed by then.)
 */
export const WHITE_SPACE_CLASS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const SPACE_RUN = new RegExp(`[${WHITE_SPACE_CLASS}]+`, 'gu');
const STRIP = new RegExp(`^[${WHITE_SPACE_CLASS}]+|[${WHITE_SPACE_CLASS}]+$`, 'gu');

// html.unescape's `_charref` pattern: numeric references, or up to 32 name characters, each with an optional `;`.
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

// HTML5's replacements for numeric references to C1 controls and a few others (html._invalid_charrefs).
const INVALID_CHARREFS = new Map<number, string>([
  [0x00, '\ufffd'], [0x0d, '\r'], [0x80, '\u20ac'], [0x81, '\x81'], [0x82, '\u201a'], [0x83, '\u0192'],
  [0x84, '\u201e'], [0x85, '\u2026'], [0x86, '\u2020'], [0x87, '\u2021'], [0x88, '\u02c6'], [0x89, '\u2030'],
  [0x8a, '\u0160'], [0x8b, '\u2039'], [0x8c, '\u0152'], [0x8d, '\x8d'], [0x8e, '\u017d'], [0x8f, '\x8f'],
  [0x90, '\x90'], [0x91, '\u2018'], [0x92, '\u2019'], [0x93, '\u201c'], [0x94, '\u201d'], [0x95, '\u2022'],
  [0x96, '\u2013'], [0x97, '\u2014'], [0x98, '\u02dc'], [0x99, '\u2122'], [0x9a, '\u0161'], [0x9b, '\u203a'],
  [0x9c, '\u0153'], [0x9d, '\x9d'], [0x9e, '\u017e'], [0x9f, '\u0178'],
]);

/** Code points a numeric reference may not produce; they become '' (html._invalid_codepoints). */
function isInvalidCodepoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) ||
    n === 0xb ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    (n <= 0x10ffff && (n & 0xfffe) === 0xfffe)
  );
}

function replaceCharref(ref: string): string {
  if (ref[0] === '#') {
    const isHex = ref[1] === 'x' || ref[1] === 'X';
    const digits = ref.slice(isHex ? 2 : 1).replace(/;$/u, '');
    // BigInt: Python's int() has no upper bound and anything above U+10FFFF must still become U+FFFD.
    const big = BigInt(isHex ? `0x${digits}` : digits);
    const num = big > 0x10ffffn ? -1 : Number(big);
    const invalid = INVALID_CHARREFS.get(num);
    if (invalid !== undefined) return invalid;
    if (num === -1 || (num >= 0xd800 && num <= 0xdfff)) return '\ufffd';
    if (isInvalidCodepoint(num)) return '';
    return String.fromCodePoint(num);
  }
  const whole = HTML5_ENTITIES.get(ref);
  if (whole !== undefined) return whole;
  // The longest prefix that is a (legacy, semicolon-less) entity name wins, as the HTML5 standard says.
  const chars = [...ref];
  for (let x = chars.length - 1; x > 1; x--) {
    const prefix = chars.slice(0, x).join('');
    const value = HTML5_ENTITIES.get(prefix);
    if (value !== undefined) return value + chars.slice(x).join('');
  }
  return `&${ref}`;
}

/** Python's `html.unescape`: named (HTML5 table) and numeric character references, with HTML5's error handling. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, (_m, ref: string) => replaceCharref(ref));
}

const LIGATURES = new Map<string, string>([
  ['\u0132', 'IJ'], ['\u0133', 'ij'], ['\ufb00', 'ff'], ['\ufb01', 'fi'], ['\ufb02', 'fl'], ['\ufb03', 'ffi'],
  ['\ufb04', 'ffl'], ['\ufb05', '\u017ft'], ['\ufb06', 'st'],
]);

/** Control and format characters ftfy's `remove_control_chars` deletes (C0 but tab, LF, FF, CR; DEL; BOM; …). */
function isRemovedControl(cp: number): boolean {
  return (
    cp <= 0x08 ||
    cp === 0x0b ||
    (cp >= 0x0e && cp <= 0x1f) ||
    cp === 0x7f ||
    (cp >= 0x206a && cp <= 0x206f) ||
    cp === 0xfeff ||
    (cp >= 0xfff9 && cp <= 0xfffc)
  );
}

/**
 * The character-mapping subset of `ftfy.fix_text` (see the file header), in ftfy's order: C1 controls as
 * Windows-1252, ligatures, fullwidth/halfwidth forms (U+3000 and U+FF01–U+FFEF to their NFKC form), curly quotes,
 * control characters removed, NFC.
 */
export function fixTextSubset(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const lig = LIGATURES.get(ch);
    if (cp >= 0x80 && cp <= 0x9f) out += INVALID_CHARREFS.get(cp)!;
    else if (lig !== undefined) out += lig;
    else if (cp === 0x3000) out += ' ';
    else if (cp >= 0xff01 && cp <= 0xffef) out += ch.normalize('NFKC');
    else if (!isRemovedControl(cp)) out += ch;
  }
  return out
    .replace(/[\u02bc\u2018-\u201b]/gu, "'")
    .replace(/[\u201c-\u201f]/gu, '"')
    .normalize('NFC');
}

/** Strips leading and trailing White_Space. */
export function stripSpace(text: string): string {
  return text.replace(STRIP, '');
}

/**
 * The whole cleaning OpenAI's `SimpleTokenizer.encode` applies before splitting:
 * `whitespace_clean(basic_clean(text)).lower()`, with the ftfy subset described in the file header.
 */
export function cleanText(text: string): string {
  const basic = stripSpace(htmlUnescape(htmlUnescape(fixTextSubset(text))));
  return stripSpace(basic.replace(SPACE_RUN, ' ')).toLowerCase();
}
