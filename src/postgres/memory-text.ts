// ADK memory's keyword index on PostgreSQL (adk_memory_fts): per current memory entry a
// tsvector of its scope lexeme, then the words of its text. Words are folded here before
// PostgreSQL sees them, as SQLite FTS5's unicode61 tokenizer folds them (case and
// diacritics aside; every run of letters and digits is a word, anything else separates),
// so the "simple" configuration only splits on the spaces between them, whatever the
// server's locale. Shared by the ADK operations and the SQLite-to-PostgreSQL copier.

/** The text as words the "simple" configuration keeps as they are: lower-case letters and digits, one space between. */
export function searchText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0)
    .join(' ');
}

/**
 * A tsquery (to_tsquery syntax) matching any of the query's words; a word that folds to
 * several (`don't`, `e-mail`) is a phrase of them, as an FTS5 phrase. Undefined when no
 * word has a letter or a digit.
 */
export function searchQuery(words: readonly string[]): string | undefined {
  const phrases = words.map((word) => searchText(word)).filter((folded) => folded.length > 0);
  if (phrases.length === 0) return undefined;
  return phrases.map((folded) => `(${folded.split(' ').join(' <-> ')})`).join(' | ');
}

/** The tsvector of a memory entry of `namespace` (SQL text) whose folded words are `text`. */
export const memoryDocument = (namespace: string, text: string): string =>
  `to_tsvector('simple', 's' || md5(${namespace})) || to_tsvector('simple', ${text})`;

/**
 * The text of a stored ADK memory value (`{ content, author, timestamp }`): its content's
 * text parts joined by spaces, as the adapter took them from the event (src/adk/memory-service.ts).
 */
export function memoryValueText(value: unknown): string {
  const parts = (value as { content?: { parts?: unknown } } | null)?.content?.parts;
  if (!Array.isArray(parts)) return '';
  return parts
    .map((part) => (part as { text?: unknown } | null)?.text)
    .filter((text): text is string => typeof text === 'string' && text.length > 0)
    .join(' ');
}
