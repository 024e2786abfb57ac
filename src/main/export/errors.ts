// The export's own error: a source that cannot become a valid package (kept free of heavy imports for the main process).

/** Thrown when the source cannot become a valid package; the message says what is wrong. */
export class ExportError extends Error {
  override name = 'ExportError';
}
