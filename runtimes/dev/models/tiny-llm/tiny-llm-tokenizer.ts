// tiny-llm's tokenizer: a token is a run of letters/digits/underscore or one other non-space
// character, so "Hello, world!" is 4 tokens (Hello , world !). Used for prompt token counts.
const TOKEN = /[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]/gu;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}
