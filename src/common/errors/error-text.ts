/** What a caught value says, for a log line or a stored last error (never for an HTTP answer). */
export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
