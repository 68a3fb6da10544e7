/**
 * Task bodies and comments as Markdown: parsed by marked with raw HTML turned into text, then
 * through DOMPurify, so neither a `<script>` nor an `onerror` nor a `javascript:` link reaches the
 * page, whatever the text holds.
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const parser = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  // Raw HTML in the text is shown as the text it is.
  renderer: { html: ({ text }) => escapeHtml(text) },
});

/** Safe HTML of `text` read as Markdown. */
export function markdown(text: string): string {
  return DOMPurify.sanitize(parser.parse(text, { async: false }), { USE_PROFILES: { html: true } });
}
